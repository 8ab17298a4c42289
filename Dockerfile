# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/supportbot ./cmd/supportbot \
 && mkdir -p /out/data /out/kb && cp -r kb/. /out/kb/ && cp config.toml /out/config.toml

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/supportbot /supportbot
COPY --from=build --chown=65532:65532 /out/config.toml /etc/supportbot/config.toml
COPY --from=build --chown=65532:65532 /out/kb /etc/supportbot/kb
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SUPPORTBOT_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/data", "/etc/supportbot"]
WORKDIR /etc/supportbot
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["/supportbot", "health"]
ENTRYPOINT ["/supportbot"]
CMD ["run", "--config", "/etc/supportbot/config.toml", "--data-dir", "/data"]
