package scanner

import (
	"context"
	"io"

	"github.com/loftyscan/loftyscan/rules"
)

// ScanText is ScanBytes for a short text that is not a file, such as a
// commit's message, and is counted the same way, but for the progress's
// Done, which counts the files of its Total. A history holds as many
// messages as commits, and nearly none holds anything a key could be in:
// when the text is no archive or compressed stream and the rules' searcher
// finds no form of a key in it (the one place the engine's findings in
// plain content start from), it is passed over without setting up the
// engine, several times faster.
func (w *Worker) ScanText(ctx context.Context, path string, text []byte) error {
	head := text[:min(len(text), sniffLen)]
	if what, _ := unopenedFormat(head); sniff(head) != plain || what != "" || mayHoldKey(text) {
		defer w.r.progress.Done.Add(-1) // ScanBytes counts one
		return w.ScanBytes(ctx, path, text)
	}
	w.r.progress.Files.Add(1)
	w.r.progress.Bytes.Add(int64(len(text)))
	return nil
}

// Opens reports whether content that starts with head is an archive or a
// compressed stream, which a scan opens, or a format it names in a warning
// (7z, RAR...): a text that holds such content after a part of another
// kind (a commit's message after its headers) scans it as a text of its
// own, as a file, since a scan tells the format from a text's start.
func Opens(head []byte) bool {
	head = head[:min(len(head), sniffLen)]
	what, _ := unopenedFormat(head)
	return sniff(head) != plain || what != ""
}

// mayHoldKey reports whether the searcher finds any form of a key, or any
// run of encoded text, in text.
func mayHoldKey(text []byte) bool {
	found := false
	rules.DefaultSearcher().Search(text, func(rules.Hit) int {
		found = true
		return len(text) + 1 // no more hits of this form wanted
	})
	return found
}

// ScanTextFrom scans the rest of a text too long to hold, read from rd
// (the header lines of a commit of a hundred megabytes, past those
// ScanText scanned), with Scan. It is counted as part of that text, not
// as a file of its own; its first again bytes are the end of that part,
// read again, and are not counted twice.
func (w *Worker) ScanTextFrom(ctx context.Context, path string, rd io.Reader, again int64) error {
	err := w.Scan(ctx, path, rd)
	w.r.progress.Done.Add(-1) // Scan counts one
	w.r.progress.Files.Add(-1)
	if err == nil {
		w.r.progress.Bytes.Add(-again)
	}
	return err
}
