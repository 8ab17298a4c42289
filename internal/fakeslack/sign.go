package fakeslack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// Sign returns the X-Slack-Request-Timestamp and X-Slack-Signature header
// values Slack sends with body at time at, signed with secret:
// "v0=" + hex(HMAC-SHA256(secret, "v0:<ts>:<body>")).
func Sign(secret string, at time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Content types of the HTTP Request URLs.
const (
	JSON = "application/json"                  // Events API
	Form = "application/x-www-form-urlencoded" // interactivity and slash commands
)

// SignedRequest builds a POST of body to url as Slack sends it, signed with
// secret at time at (use a time over 5 minutes old to test replay
// protection). retryNum > 0 adds X-Slack-Retry-Num and X-Slack-Retry-Reason.
func SignedRequest(ctx context.Context, secret, url string, body []byte, contentType string, at time.Time, retryNum int) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts, sig := Sign(secret, at, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	if retryNum > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retryNum))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	return req, nil
}
