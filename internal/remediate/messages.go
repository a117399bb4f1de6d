package remediate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/loftyscan/loftyscan/rules"
)

// loftyscan's history scan reads files, not messages; a key pasted into a
// commit or tag message is found here. The replacements already cover
// every message for the keys the scan found; a key that is only in a
// message would be left in history if no one looked.

// Messages are scanned in windows of msgChunk new bytes after the last
// msgOverlap bytes of the window before, so that a long message (git sets
// no limit) never has to be in memory whole, a key across two windows is
// still found, and the work stays linear in the message's length.
const (
	msgChunk   = 1 << 20
	msgOverlap = rules.MaxTokenLen + 1024
)

// MessageKeys finds the keys in the messages of every commit reachable
// from any ref and of every annotated tag, as the scan's rules see them.
// Each key comes with one occurrence per commit or tag whose message holds
// it.
func MessageKeys(ctx context.Context, dir string, cfg rules.Config) ([]Key, error) {
	var keys keyIndex
	// Records end with NUL then RS: a message holds no NUL (git stops a
	// message at one), so no message can forge the end of a record.
	err := readRecords(ctx, dir, []string{"log", "--all", "--format=%H%x00%B%x00%x1e"}, func(head string, chunk []byte) {
		keys.add(cfg, chunk, Occurrence{Commit: head, InMessage: true})
	})
	if err != nil {
		return nil, err
	}
	err = readRecords(ctx, dir, []string{"for-each-ref", "refs/tags", "--format=%(objecttype) %(objectname) %(refname:short)%00%(contents)%00%1e"}, func(head string, chunk []byte) {
		f := strings.SplitN(head, " ", 3)
		if len(f) == 3 && f[0] == "tag" {
			keys.add(cfg, chunk, Occurrence{Commit: f[1], InMessage: true, Tag: f[2]})
		}
	})
	if err != nil {
		return nil, err
	}
	return keys.list, nil
}

// keyIndex gathers keys by fingerprint, each place once.
type keyIndex struct {
	list []Key
	at   map[string]int
	seen map[string]bool // fingerprint + place
}

func (x *keyIndex) add(cfg rules.Config, text []byte, o Occurrence) {
	for _, m := range cfg.Find(text) {
		fp := fingerprint(m.Token)
		if x.at == nil {
			x.at, x.seen = map[string]int{}, map[string]bool{}
		}
		i, ok := x.at[fp]
		if !ok {
			i = len(x.list)
			x.at[fp] = i
			x.list = append(x.list, Key{Fingerprint: fp, Secret: m.Token, Subject: m.Subject, ExpiresAt: m.ExpiresAt, Status: string(m.Status)})
		}
		place := fp + "\x00" + o.Commit + "\x00" + o.Tag
		if !x.seen[place] {
			x.seen[place] = true
			x.list[i].Occurrences = append(x.list[i].Occurrences, o)
		}
	}
}

// readRecords runs git and calls fn with each record's head (up to the
// first NUL) and its body, a piece at a time (see msgChunk).
func readRecords(ctx context.Context, dir string, args []string, fn func(head string, chunk []byte)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running git: %w", err)
	}
	perr := parseRecords(bufio.NewReaderSize(out, msgChunk), fn)
	if perr != nil {
		cancel()
	}
	werr := cmd.Wait()
	switch {
	case perr != nil:
		return perr
	case werr != nil:
		return fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(stderr.String()))
	}
	return nil
}

// parseRecords splits "<head>\0<body>\0\x1e" records. A head longer than
// the reader's buffer is an error (heads are object names and ref names).
func parseRecords(r *bufio.Reader, fn func(head string, chunk []byte)) error {
	for {
		head, err := r.ReadSlice(0)
		if errors.Is(err, io.EOF) && len(bytes.TrimSpace(head)) == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading git's output: %w", err)
		}
		h := strings.TrimLeft(string(head[:len(head)-1]), "\n")
		var window []byte // the overlap of the piece before, then this piece
		for {
			piece, err := r.ReadSlice(0x1e)
			end := err == nil && len(piece) >= 2 && piece[len(piece)-2] == 0
			if end {
				piece = piece[:len(piece)-2]
			}
			window = append(window, piece...)
			if end || errors.Is(err, io.EOF) {
				fn(h, window)
				break
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return fmt.Errorf("reading git's output: %w", err)
			}
			if len(window) >= msgOverlap+msgChunk { // a whole piece since the last scan: linear work
				fn(h, window)
				window = append(window[:0], window[len(window)-msgOverlap:]...)
			}
		}
	}
}
