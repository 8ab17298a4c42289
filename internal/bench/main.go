// Command bench measures supportbot on this machine and writes the figures
// as a markdown table (docs/benchmarks.md): the router on CLINC150, the
// engine end to end with the embedded store and with Redis, the handoff
// desk, memory and file sizes, the process's start-up and RSS, and
// redis-benchmark's round trips per second as the reference ceiling, all in
// one run. The Redis end-to-end rows run in a child process of their own, as
// a bot runs one store. scripts/bench builds and runs it:
//
//	go run ./internal/bench -bin /tmp/supportbot -out docs/benchmarks.md
//
// Each row notes the 1-minute load average when it ran: on a shared machine
// the figures are only as quiet as the machine was.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/supportbot/supportbot/intents"
	"github.com/supportbot/supportbot/store"
	"github.com/supportbot/supportbot/store/embedded"
	"github.com/supportbot/supportbot/store/redisstore"
)

// row is one line of the table.
type row struct {
	measure, setup, result, target string
	load                           string // 1-minute load average while it ran
}

type report struct {
	rows  []row
	notes []string
}

func (r *report) add(measure, setup, result, target string) {
	r.rows = append(r.rows, row{measure, setup, result, target, loadAvg()})
	fmt.Fprintf(os.Stderr, "  %s | %s | %s\n", measure, setup, result)
}

func (r *report) skip(measure string, err error) {
	r.add(measure, "skipped", "— ("+err.Error()+")", "")
}

// wireReport is a report as the Redis rows' process hands it over.
type wireReport struct {
	Rows  [][5]string // measure, setup, result, target, load
	Notes []string
}

func (r *report) write(file string) error {
	w := wireReport{Notes: r.notes}
	for _, x := range r.rows {
		w.Rows = append(w.Rows, [5]string{x.measure, x.setup, x.result, x.target, x.load})
	}
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// runRedisProcess runs this program with -rows redis and args, its progress
// on this one's stderr, and returns its rows.
func runRedisProcess(args ...string) (*report, error) {
	f, err := os.CreateTemp("", "supportbot-bench-redis-*.json")
	if err != nil {
		return nil, err
	}
	f.Close()
	defer os.Remove(f.Name())
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"-rows", "redis", "-emit", f.Name()}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("the Redis rows' process: %w", err)
	}
	rep, err := readReport(f.Name())
	if err != nil {
		return nil, fmt.Errorf("the Redis rows' process: %w", err)
	}
	return rep, nil
}

// readReport reads what report.write wrote.
func readReport(file string) (*report, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var w wireReport
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	rep := &report{notes: w.Notes}
	for _, x := range w.Rows {
		rep.rows = append(rep.rows, row{x[0], x[1], x[2], x[3], x[4]})
	}
	return rep, nil
}

func main() {
	out := flag.String("out", "", "write the markdown report to this `file` (default: stdout only)")
	data := flag.String("data", "../shared/data", "`directory` with clinc150.jsonl")
	bin := flag.String("bin", "", "built supportbot `binary` for the process rows (skipped if empty)")
	dur := flag.Duration("duration", 5*time.Second, "length of each end-to-end run")
	only := flag.String("rows", "router,engine,handoff,memory,process", "comma-separated `groups` to run")
	cmdline := flag.String("cmdline", "", "the command that ran this, for the report")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	memprofile := flag.String("memprofile", "", "write an allocation profile of the whole run to `file`")
	traceFile := flag.String("trace", "", "write a runtime trace of the whole run to `file` (go tool trace)")
	pacedRate := flag.Int("redis-paced", 2000, "messages per second of the paced Redis row")
	pacedDur := flag.Duration("paced-duration", 15*time.Second, "length of the paced Redis rows: their p99 is the 1 % slowest, so a 5 s window (10,000 messages) moves with one stall of the machine")
	convsFlag := flag.String("redis-convs", "1,100,10000", "comma-separated conversation `counts` of the closed-loop Redis rows")
	procs := flag.Int("redis-procs", 1, "also run the 100-conversation and paced Redis rows with GOMAXPROCS set to `n`, the setting docs/operations.md advises for a 2-core host shared with redis-server (0: not)")
	flag.IntVar(&redisPipelining, "redis-pipelining", 0, "redisstore.Options.Pipelining of the Redis rows (0: off, the store's default)")
	oneProcess := flag.Bool("one-process", false, "run the Redis rows in this process too (as with -cpuprofile, -memprofile or -trace) instead of in a process of their own")
	emit := flag.String("emit", "", "write the rows as JSON to `file` instead of the report (how the Redis rows' own process reports)")
	flag.Parse()
	for _, f := range strings.Split(*convsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatalf("-redis-convs: %v", err)
		}
		redisConvs = append(redisConvs, n)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			log.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			log.Fatal(err)
		}
		defer trace.Stop()
	}
	if *memprofile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(*memprofile)
			if err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	log.SetFlags(0)
	groups := strings.Split(*only, ",")
	want := func(g string) bool { return slices.Contains(groups, g) }

	started := time.Now()
	rep := &report{}
	ctx := context.Background()
	c, err := loadCLINC(*data)
	var snap *intents.Snapshot
	var router *intents.Router
	var texts []string // messages the router answers
	if err == nil {
		fmt.Fprintln(os.Stderr, "compiling the CLINC150 knowledge base...")
		router, snap, err = newRouter(ctx, c, nil)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v: rows needing CLINC150 are skipped\n", err)
		rep.notes = append(rep.notes, fmt.Sprintf("CLINC150 unavailable (%v): router, engine, handoff, memory and process rows skipped.", err))
	} else {
		texts = answered(router, c.test)
		rep.notes = append(rep.notes, fmt.Sprintf("Knowledge base: CLINC150, %d intents, %d training examples (train split, out-of-scope rows left out); compiled in %v in this process.",
			len(c.base.Intents), c.train, snap.Trained.Round(time.Millisecond)))
	}
	noKB := err

	// The Redis rows run in a process of their own, as a bot runs one
	// store: after the embedded rows in the same process the paced row's
	// p99 was 2 to 3 ms worse in alternating runs (docs/performance.md).
	separate := (want("engine") || want("redis")) && noKB == nil && *emit == "" && !*oneProcess && *cpuprofile == "" && *memprofile == "" && *traceFile == ""
	// This process's own server serves the handoff and memory rows, and
	// the Redis rows unless they run separately.
	needSrv := !separate || want("handoff") || want("memory")
	var srv *redisServer
	var rerr error
	if needSrv {
		srv, rerr = startRedis()
	}
	var ref refResult
	if needSrv && rerr == nil {
		defer srv.close()
		if !separate { // else measured by the Redis rows' process, on its server
			fmt.Fprintln(os.Stderr, "redis-benchmark (reference)...")
			if ref, rerr = redisReference(srv); rerr != nil {
				srv.close()
				srv = nil
			}
		}
	}
	if separate && (srv != nil || !needSrv) {
		rep.add("reference: redis-benchmark", "", "", "") // the Redis rows' process fills it in
	} else if srv != nil {
		rep.add("reference: redis-benchmark", "`"+ref.cmd+"` on the redis-server the Redis rows use (AOF everysec, auto-aof-rewrite-min-size 1gb), measured first",
			fmt.Sprintf("PING_INLINE %s, PING_MBULK %s, SET %s, GET %s round trips/s", thousands(ref.rps["PING_INLINE"]), thousands(ref.rps["PING_MBULK"]), thousands(ref.rps["SET"]), thousands(ref.rps["GET"])), "")
	} else {
		rep.skip("reference: redis-benchmark", rerr)
	}
	refRT := ref.rps["SET"]
	ratio := func(v float64) string {
		if refRT == 0 {
			return ""
		}
		return fmt.Sprintf("; %.3f × redis-benchmark SET", v/refRT)
	}

	if want("router") {
		if noKB != nil {
			rep.skip("router", noKB)
		} else {
			fmt.Fprintln(os.Stderr, "router...")
			rr, err := benchRouter(router, c.test, 4)
			if err != nil {
				log.Fatal(err)
			}
			rep.add("router: classify + decide", fmt.Sprintf("CLINC150 test split (%d messages, in and out of scope) ×4; 1 goroutine, GOMAXPROCS=1, thread locked", len(c.test)),
				fmt.Sprintf("p50 %s, p99 %s, %s msg/s", us(rr.p50), us(rr.p99), thousands(rr.perSec)), "p99 ≤ 100 µs: "+verdict(rr.p99 <= 100*time.Microsecond))
			fmt.Fprintln(os.Stderr, "router, cold caches...")
			cold, err := benchRouterCold(router, c.test[:min(1000, len(c.test))])
			if err != nil {
				log.Fatal(err)
			}
			rep.add("router: classify + decide, cold caches", fmt.Sprintf("the first %d CLINC150 test messages once each, the CPU caches emptied before each (64 MB written over); as above otherwise: a message that arrives after other work, as in the paced engine rows", cold.n),
				fmt.Sprintf("p50 %s, p99 %s", us(cold.p50), us(cold.p99)), "no target of its own (the row above is the issue's); p99 ≤ 100 µs: "+verdict(cold.p99 <= 100*time.Microsecond))
		}
	}

	if want("engine") || want("embedded") || want("redis") {
		if noKB != nil {
			rep.skip("engine end to end", noKB)
		} else {
			for _, convs := range []int{1, 100, 10_000} {
				if !want("engine") && !want("embedded") {
					break
				}
				fmt.Fprintf(os.Stderr, "engine, embedded, %d conversations...\n", convs)
				st, dir, err := openEmbedded()
				if err != nil {
					log.Fatal(err)
				}
				r := startRig(st, snap)
				err = opening(r, texts, convs)
				var res e2eResult
				if err == nil {
					res, err = closedLoop(r, texts, convs, *dur)
				}
				r.close()
				st.Close()
				os.RemoveAll(dir)
				if err != nil {
					log.Fatal(err)
				}
				rep.add(fmt.Sprintf("engine e2e, embedded, %s conversations", thousands(float64(convs))), e2eSetup(*dur, res),
					e2eFigures(res), "≥ 20,000 msg/s: "+verdict(res.perSec >= 20_000))
			}
			if srv == nil && !separate {
				rep.skip("engine e2e, Redis", rerr)
			} else if separate {
				fmt.Fprintln(os.Stderr, "engine, redis: in a process of their own...")
				sub, err := runRedisProcess("-data", *data, "-duration", dur.String(), "-paced-duration", pacedDur.String(), "-redis-paced", strconv.Itoa(*pacedRate),
					"-redis-convs", *convsFlag, "-redis-procs", strconv.Itoa(*procs), "-redis-pipelining", strconv.Itoa(redisPipelining))
				if err != nil {
					log.Fatal(err)
				}
				for _, r := range sub.rows {
					if i := slices.IndexFunc(rep.rows, func(x row) bool { return x.measure == r.measure && x.result == "" }); i >= 0 {
						rep.rows[i] = r // the reference's place
					} else {
						rep.rows = append(rep.rows, r)
					}
				}
				for _, n := range sub.notes {
					if !strings.HasPrefix(n, "Knowledge base:") {
						rep.notes = append(rep.notes, n)
					}
				}
				rep.notes = append(rep.notes, "The Redis end-to-end rows and their reference ran in a process of their own (this program with `-rows redis`), as a bot runs one store; `-one-process` runs them here.")
			} else if want("engine") || want("redis") {
				// procsNote names a GOMAXPROCS setting in a row's label.
				procsNote := func(n int) string {
					if n == 0 {
						return ""
					}
					return fmt.Sprintf(", GOMAXPROCS=%d", n)
				}
				closedRow := func(convs, n int) {
					if n > 0 {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
					}
					fmt.Fprintf(os.Stderr, "engine, redis, %d conversations%s...\n", convs, procsNote(n))
					res, cmds, err := redisRun(srv, snap,
						func(r *rig) (e2eResult, error) { return e2eResult{}, opening(r, texts, convs) },
						func(r *rig) (e2eResult, error) { return closedLoop(r, texts, convs, *dur) })
					if err != nil {
						log.Fatal(err)
					}
					rep.add(fmt.Sprintf("engine e2e, Redis, %s conversations%s", thousands(float64(convs)), procsNote(n)), e2eSetup(*dur, res)+redisPath,
						e2eFigures(res)+fmt.Sprintf("; %.1f Redis commands/msg", cmds)+ratio(res.perSec)+"; "+res.redisCPU, "≥ 5,000 msg/s: "+verdict(res.perSec >= 5_000))
					if n == 0 {
						rep.notes = append(rep.notes, fmt.Sprintf("Redis commands per message, %s conversations: %s.", thousands(float64(convs)), res.commands))
					}
				}
				pacedRow := func(n int) {
					if n > 0 {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
					}
					fmt.Fprintf(os.Stderr, "engine, redis, paced %s msg/s%s...\n", thousands(float64(*pacedRate)), procsNote(n))
					// A fresh server: one that just freed the rows above
					// (10,000 conversations) still returns memory and writes
					// files back for a while, and this row measures a tail.
					// The rows' server is emptied first, and its AOF
					// rewritten and synced, so that none of that runs during
					// this row.
					if err := srv.flush(); err != nil {
						log.Fatal(err)
					}
					fresh, err := startRedis()
					if err != nil {
						log.Fatal(err)
					}
					res, cmds, err := redisRun(fresh, snap,
						func(r *rig) (e2eResult, error) { return paced(r, texts, 100, *pacedRate, pacedWarmUp) },
						func(r *rig) (e2eResult, error) { return paced(r, texts, 100, *pacedRate, *pacedDur) })
					fresh.close()
					if err != nil {
						log.Fatal(err)
					}
					fmt.Fprintf(os.Stderr, "  latency p50 %v, p90 %v, p99 %v, p99.9 %v, max %v\n", res.p50, res.p90, res.p99, res.p999, res.max)
					rep.add(fmt.Sprintf("engine e2e, Redis, paced %s msg/s%s", thousands(float64(*pacedRate)), procsNote(n)), fmt.Sprintf("open loop for %v after %v of warm-up at the same rate (not measured), on a fresh redis-server with the same settings, 100 conversations round robin; latency from each message's scheduled time", *pacedDur, pacedWarmUp)+redisPath,
						e2eFigures(res)+fmt.Sprintf("; p90 %s, p99.9 %s, max %s; %.1f Redis commands/msg", ms(res.p90), ms(res.p999), ms(res.max), cmds)+"; "+res.redisCPU, "p99 ≤ 5 ms: "+verdict(res.p99 <= 5*time.Millisecond))
				}
				for _, convs := range []int{1, 100, 10_000} {
					if slices.Contains(redisConvs, convs) {
						closedRow(convs, 0)
					}
				}
				if *pacedRate > 0 {
					pacedRow(0)
				}
				if *procs > 0 && *procs < runtime.GOMAXPROCS(0) {
					if slices.Contains(redisConvs, 100) {
						closedRow(100, *procs)
					}
					if *pacedRate > 0 {
						pacedRow(*procs)
					}
				}
			}
		}
	}

	if want("handoff") {
		if noKB != nil {
			rep.skip("handoff", noKB)
		} else {
			fmt.Fprintln(os.Stderr, "handoff...")
			st, dir, err := openEmbedded()
			if err != nil {
				log.Fatal(err)
			}
			h, err := benchHandoff(st, snap, 40, 50)
			st.Close()
			os.RemoveAll(dir)
			if err != nil {
				log.Fatal(err)
			}
			rep.add("handoff: trigger → card posted (embedded)", fmt.Sprintf("%d conversations one after another: \"I want to talk to a human\" → handofftest Workspace.Announce", h.n),
				fmt.Sprintf("p50 %s, p99 %s", ms(h.p50), ms(h.p99)), "")
			rep.add("handoff: claim, 50 concurrent claimers (embedded)", fmt.Sprintf("%d claims: 50 agents click Claim on the same card at once, %d cards", h.claims, h.n),
				fmt.Sprintf("p50 %s, p99 %s", ms(h.claim50), ms(h.claim99)), "")
			if srv != nil {
				var h handoffResult
				err := withRedis(srv, func(st *redisstore.Store) error {
					var err error
					h, err = benchHandoff(st, snap, 40, 50)
					return err
				})
				if err != nil {
					log.Fatal(err)
				}
				rep.add("handoff: trigger → card posted (Redis)", fmt.Sprintf("as above, %d conversations; full durable path (stream inbox)", h.n),
					fmt.Sprintf("p50 %s, p99 %s", ms(h.p50), ms(h.p99)), "")
				rep.add("handoff: claim, 50 concurrent claimers (Redis)", fmt.Sprintf("as above, %d claims", h.claims),
					fmt.Sprintf("p50 %s, p99 %s", ms(h.claim50), ms(h.claim99)), "")
			}
		}
	}

	if want("memory") {
		if noKB != nil {
			rep.skip("memory", noKB)
		} else {
			if srv == nil {
				rep.skip("Redis memory per conversation", rerr)
			} else {
				fmt.Fprintln(os.Stderr, "redis memory...")
				if err := srv.flush(); err != nil {
					log.Fatal(err)
				}
				m, err := benchRedisMemory(srv, snap, texts, 200)
				if err != nil {
					log.Fatal(err)
				}
				rep.add("Redis memory per conversation", fmt.Sprintf("%d conversations of %d messages (10 customer, 10 bot) through the engine; MEMORY USAGE of its keys (record, transcript, claim) minus %.0f B of text", m.convs, m.msgs, m.text),
					fmt.Sprintf("%s B beyond the text (%s B with its 10 dedupe keys and customer index)", thousands(m.overhead), thousands(m.withDedupe)), "≤ 4 KB: "+verdict(m.overhead <= 4096))
			}
			fmt.Fprintln(os.Stderr, "embedded file bytes...")
			f, err := benchFileBytes(snap, texts, 200)
			if err != nil {
				log.Fatal(err)
			}
			rep.add("embedded store bytes per conversation", fmt.Sprintf("%d conversations of %d messages through the engine", f.convs, f.msgs),
				fmt.Sprintf("%s B of pages in use, %s B of file growth", thousands(f.used), thousands(f.file)), "")
		}
	}

	if want("process") {
		switch {
		case noKB != nil:
			rep.skip("process", noKB)
		case *bin == "":
			rep.skip("process", errors.New("no -bin given"))
		default:
			fmt.Fprintln(os.Stderr, "process...")
			p, err := benchProcess(*bin, c, c.test, 5, 2000)
			if err != nil {
				log.Fatal(err)
			}
			ss := make([]string, len(p.starts))
			for i, s := range p.starts {
				ss[i] = ms(s)
			}
			rep.add("start-up to ready", "`supportbot run` (embedded store, CLINC150 KB published, model cached by a first start that trained it in "+ms(p.first)+"), exec → GET /readyz 200; median of "+fmt.Sprint(len(p.starts))+" ("+strings.Join(ss, ", ")+")",
				ms(p.start()), "≤ 300 ms: "+verdict(p.start() <= 300*time.Millisecond))
			rep.add("RSS idle", "VmRSS of `supportbot run` 2 s after ready, CLINC150 KB loaded", mib(p.idleRSS), "≤ 100 MB: "+verdict(p.idleRSS <= 100<<20))
			rep.add("RSS under load", fmt.Sprintf("peak VmRSS of `supportbot chat` answering %d piped CLINC150 messages (%s msg/s, one conversation)", p.loadMsgs, thousands(rate(p.loadMsgs, p.loadTook))),
				mib(p.loadRSS), "")
		}
	}

	if *emit != "" {
		if err := rep.write(*emit); err != nil {
			log.Fatal(err)
		}
		return
	}
	md := render(rep, started, *cmdline)
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// pacedWarmUp runs before the paced row is measured: the first tens of
// milliseconds after start-up (pool dials, first script loads, goroutine
// stacks) are start-up cost, which the start-up row measures, not load.
const pacedWarmUp = time.Second

const redisPath = "; full durable path: stream inbox with dedupe (bot.WithDurable), atomic commit, outbox with its lock, events"

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func e2eSetup(d time.Duration, r e2eResult) string {
	return fmt.Sprintf("closed loop for %v after each conversation's first message (not measured): each conversation sends its next CLINC150 message when the last is answered", d)
}

func e2eFigures(r e2eResult) string {
	s := fmt.Sprintf("%s msg/s, p50 %s, p99 %s (%s messages)", thousands(r.perSec), ms(r.p50), ms(r.p99), thousands(float64(r.n)))
	if r.cpu > 0 {
		s += fmt.Sprintf("; %s CPU/msg", us(r.cpu))
	}
	if r.failed > 0 {
		s += fmt.Sprintf(", %d not handled", r.failed)
	}
	return s
}

func openEmbedded() (store.Store, string, error) {
	dir, err := os.MkdirTemp("", "supportbot-bench-embedded")
	if err != nil {
		return nil, "", err
	}
	st, err := embedded.Open(dir+"/"+embedded.FileName, embedded.Options{Log: quiet()})
	return st, dir, err
}

// The Redis rows' settings (flags).
var (
	redisConvs      []int
	redisPipelining int
)

// withRedis calls f with a Redis store on srv, emptied first.
func withRedis(srv *redisServer, f func(st *redisstore.Store) error) error {
	if err := srv.flush(); err != nil {
		return err
	}
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: srv.URL(), Log: quiet(), Pipelining: redisPipelining})
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

// settle collects the garbage of the rows before and returns it to the
// OS now, as testing.B does between benchmarks, so that the runtime does
// not do it in the middle of the next row.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// redisRun runs fn on a rig over a Redis store on an emptied srv and also
// returns the Redis commands processed per handled message.
func redisRun(srv *redisServer, snap *intents.Snapshot, warm, fn func(*rig) (e2eResult, error)) (e2eResult, float64, error) {
	var res e2eResult
	var before, after int64
	err := withRedis(srv, func(st *redisstore.Store) error {
		settle()
		r := startRig(st, snap)
		defer r.close() // closing twice is harmless
		if warm != nil {
			if _, err := warm(r); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		var err error
		if before, err = commandsProcessed(srv); err != nil {
			return err
		}
		stats0, err := commandStats(srv)
		if err != nil {
			return err
		}
		self0, redis0, err := cpuTimes(srv)
		if err != nil {
			return err
		}
		sr0, sw0 := syscalls(os.Getpid())
		rr0, rw0 := syscalls(srv.cmd.Process.Pid)
		res, err = fn(r)
		r.close()
		if err != nil {
			return err
		}
		self1, redis1, err := cpuTimes(srv)
		if err != nil {
			return err
		}
		sr1, sw1 := syscalls(os.Getpid())
		rr1, rw1 := syscalls(srv.cmd.Process.Pid)
		per := func(a, b int64) string { return fmt.Sprintf("%.1f", float64(b-a)/float64(max(1, res.n))) }
		res.redisCPU = fmt.Sprintf("CPU per message: %s bot and load generator, %s redis-server", self1.perMessage(self0, res.n), redis1.perMessage(redis0, res.n)) +
			fmt.Sprintf("; read/write system calls per message: %s/%s bot and load generator, %s/%s redis-server", per(sr0, sr1), per(sw0, sw1), per(rr0, rr1), per(rw0, rw1))
		fmt.Fprintf(os.Stderr, "  %s\n", res.redisCPU)
		stats1, err := commandStats(srv)
		if err != nil {
			return err
		}
		res.commands = topCommands(stats0, stats1, res.n)
		res.redisCPU += fmt.Sprintf("; %.1f µs in scripts (EVALSHA) per message", float64(stats1[evalshaUsec]-stats0[evalshaUsec])/float64(max(1, res.n)))
		fmt.Fprintf(os.Stderr, "  Redis commands per message: %s\n", res.commands)
		after, err = commandsProcessed(srv)
		return err
	})
	return res, float64(after-before) / float64(max(1, res.n)), err
}

// commandStats is INFO commandstats: calls by command.
func commandStats(srv *redisServer) (map[string]int64, error) {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		name = strings.TrimPrefix(name, "cmdstat_")
		fields := strings.Split(rest, ",")
		var n int64
		fmt.Sscan(fields[0], &n)
		out[name] = n
		if name == "evalsha" {
			for _, f := range fields[1:] {
				if v, ok := strings.CutPrefix(f, "usec="); ok {
					fmt.Sscan(v, &n)
					out[evalshaUsec] = n
				}
			}
		}
	}
	return out, nil
}

// evalshaUsec is the key of commandStats' map that holds the microseconds
// redis-server spent running EVALSHA (the scripts, with the commands they
// call), not a command.
const evalshaUsec = "evalsha µs"

// topCommands formats the commands that grew most from a to b, per message.
func topCommands(a, b map[string]int64, msgs int) string {
	type kv struct {
		k string
		v int64
	}
	var d []kv
	for k, v := range b {
		if k != evalshaUsec && v-a[k] > 0 {
			d = append(d, kv{k, v - a[k]})
		}
	}
	slices.SortFunc(d, func(x, y kv) int { return int(y.v - x.v) })
	var parts []string
	for _, e := range d[:min(len(d), 20)] {
		parts = append(parts, fmt.Sprintf("%s %.2f", e.k, float64(e.v)/float64(max(1, msgs))))
	}
	return strings.Join(parts, ", ")
}

// commandsProcessed is INFO stats total_commands_processed.
func commandsProcessed(srv *redisServer) (int64, error) {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true})
	defer c.Close()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			var n int64
			_, err := fmt.Sscan(v, &n)
			return n, err
		}
	}
	return 0, errors.New("no total_commands_processed in INFO stats")
}

func render(rep *report, started time.Time, cmdline string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Measured %s on %s: %d cores (nproc), %s, %s, %s/%s. The machine is shared, so each row notes the 1-minute load average while it ran; compare rows of one run, and rerun for medians.\n\n",
		started.UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "| measure | setup | result | target | load |\n|---|---|---|---|---|\n")
	for _, r := range rep.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.measure, r.setup, r.result, r.target, r.load)
	}
	b.WriteString("\n")
	for _, n := range rep.notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\nProfiles, before/after figures and what bounds each row: [performance.md](performance.md).\n")
	b.WriteString("\n## Commands\n\n```\n")
	if cmdline != "" {
		b.WriteString(cmdline + "\n")
	} else {
		b.WriteString(strings.Join(os.Args, " ") + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}
