package main

// The "vdr tail" subcommand: a primary's replication stream as JSON lines,
// for piping into jq, files or a Kafka producer (change data capture).
//
// Output, one JSON object per line on stdout:
//
//	{"event":"full_sync","replid":"<40 hex>","offset":N}
//	{"db":0,"key":"k","type":"string",...}          (only with --rdb-entries; as vdr rdb prints keys)
//	{"event":"full_sync_end","replid":"…","offset":N,"keys":K}
//	{"offset":O,"db":D,"argv":["SET","k","v"],"time_ms":T}
//	{"offset":O,"db":D,"argv":[…],"unit":true,"time_ms":T}   (a command of a MULTI/EXEC unit)
//
// offset is the replication offset of the command's last byte; a consumer
// that saved the last offset resumes with --from replid:offset[:db] and gets
// the following command next (when the primary's backlog still holds it;
// otherwise a full_sync event comes first). argv elements are JSON strings
// when valid UTF-8, else {"hex":"…"}. time_ms is when vdr received the
// command (Redis 7 sends no primary time on the link). Progress and errors
// go to stderr; on exit the position to resume from is logged there.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vdr-project/vdr/rdbparse"
	"github.com/vdr-project/vdr/replica"
)

var tailSettings = []setting{
	{"from", "Tail", "", "resume after this position: replid:offset[:db] (as a previous run logged)", kString},
	{"rdb-entries", "Tail", "no", "also print every key of a full sync's RDB", kBool},
	{"max-elems", "Tail", "1000", "with --rdb-entries, most elements printed per key", kInt},
}

type tailLine struct {
	Event  string   `json:"event,omitempty"`
	ReplID string   `json:"replid,omitempty"`
	Offset int64    `json:"offset"`
	DB     *int     `json:"db,omitempty"`
	Argv   []jbytes `json:"argv,omitempty"`
	Unit   bool     `json:"unit,omitempty"`
	Keys   *int64   `json:"keys,omitempty"`
	TimeMs int64    `json:"time_ms,omitempty"`
}

// tailHandler writes the stream as JSON lines.
type tailHandler struct {
	rdbparse.NopHandler
	mu      sync.Mutex
	w       *bufio.Writer
	enc     *json.Encoder
	entries *printer // nil without --rdb-entries
	keys    int64
	log     func(string, ...any)
}

func (h *tailHandler) emit(l *tailLine) error {
	return h.enc.Encode(l)
}

func (h *tailHandler) FullSyncBegin(replID string, offset int64) error {
	h.keys = 0
	return h.emit(&tailLine{Event: "full_sync", ReplID: replID, Offset: offset})
}

func (h *tailHandler) Header(hd rdbparse.Header) error {
	if h.entries != nil {
		return h.entries.Header(hd)
	}
	return nil
}

func (h *tailHandler) Entry(e *rdbparse.Entry) error {
	if e.Last {
		h.keys++
	}
	if h.entries != nil {
		return h.entries.Entry(e)
	}
	return nil
}

func (h *tailHandler) FullSyncEnd(replID string, offset int64) error {
	k := h.keys
	if err := h.emit(&tailLine{Event: "full_sync_end", ReplID: replID, Offset: offset, Keys: &k}); err != nil {
		return err
	}
	return h.w.Flush()
}

func (h *tailHandler) FullSyncAbort(err error) {
	h.emit(&tailLine{Event: "full_sync_aborted"})
	h.w.Flush()
}

func (h *tailHandler) Commands(cmds []replica.Command) error {
	now := time.Now().UnixMilli()
	for _, c := range cmds {
		db := c.DB
		l := tailLine{Offset: c.Offset, DB: &db, Unit: c.Unit, TimeMs: now, Argv: make([]jbytes, len(c.Argv))}
		for i, a := range c.Argv {
			l.Argv[i] = jbytes(a)
		}
		if err := h.emit(&l); err != nil {
			return fmt.Errorf("%w: %v", replica.ErrStop, err)
		}
	}
	// Flush per batch: a consumer sees each command as soon as the
	// primary's stream pauses, and a batch is at most MaxBatch commands.
	if err := h.w.Flush(); err != nil {
		return fmt.Errorf("%w: %v", replica.ErrStop, err)
	}
	return nil
}

func (h *tailHandler) LinkState(s replica.State, err error) {
	if err != nil {
		h.log("link %s: %v", s, err)
	}
}

// parseFrom parses replid:offset[:db].
func parseFrom(v string) (replID string, offset int64, db int, err error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) != 40 {
		return "", 0, 0, fmt.Errorf("want replid:offset[:db] with a 40-character replid, got %q", v)
	}
	if offset, err = strconv.ParseInt(parts[1], 10, 64); err != nil || offset < 0 {
		return "", 0, 0, fmt.Errorf("bad offset in %q", v)
	}
	if len(parts) == 3 {
		if db, err = strconv.Atoi(parts[2]); err != nil || db < 0 {
			return "", 0, 0, fmt.Errorf("bad db in %q", v)
		}
	}
	return parts[0], offset, db, nil
}

// runTail implements "vdr tail": it follows the primary until SIGINT or
// SIGTERM (or until stdout closes), then logs the position to resume from.
func runTail(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfigWith(args, getenv, stderr, tailSettings)
	if err != nil {
		return exitCodeFor(err, stderr)
	}
	if cfg.PrimaryAddr == "" && len(cfg.Sentinels) == 0 {
		return exitCodeFor(&configError{name: "primary", msg: "vdr tail needs a primary (--primary, --replicaof or --sentinel)"}, stderr)
	}
	log := newLogger(cfg, stderr)
	opts, err := nodeOptions(cfg, log)
	if err != nil {
		return exitCodeFor(err, stderr)
	}
	ro := *opts.Replica
	if f := cfg.Str("from"); f != "" {
		id, off, db, err := parseFrom(f)
		if err != nil {
			return exitCodeFor(&configError{name: "from", msg: err.Error()}, stderr)
		}
		ro.ResumeReplID, ro.ResumeOffset, ro.ResumeDB = id, off, db
	}
	w := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	h := &tailHandler{w: w, enc: enc, log: func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) }}
	if cfg.Bool("rdb-entries") {
		h.entries = &printer{enc: enc, maxElems: cfg.Int("max-elems")}
		h.entries.sum.Aux = map[string]jbytes{}
		h.entries.sum.KeysPerType = map[string]int64{}
		h.entries.sum.KeysPerDB = map[string]int64{}
	}
	ro.Handler = h
	ro.ListeningPort = cfg.Int("replica-announce-port")
	client := replica.New(ro)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	runErr := client.Run(ctx)
	w.Flush()
	replID, off, db := client.Position()
	if replID != "" {
		log.Info("tail stopped; resume with --from", "from", fmt.Sprintf("%s:%d:%d", replID, off, db))
	}
	if runErr != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "vdr tail:", runErr)
		return 1
	}
	return 0
}
