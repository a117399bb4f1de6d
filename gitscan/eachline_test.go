package gitscan

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// TestEachLine: the reader of reflogs, shallow files and alternates gives
// each line's start, up to maxReflogLine bytes, whatever the lines'
// lengths, whether it cut it, and the error that stopped it.
func TestEachLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*maxReflogLine+5)
	for _, tc := range []struct {
		in   string
		want []string
		cut  int // lines cut at maxReflogLine
	}{
		{"", nil, 0},
		{"a\nb\n", []string{"a\n", "b\n"}, 0},
		{"a\r\nlast", []string{"a\r\n", "last"}, 0},
		{"\n\nc", []string{"\n", "\n", "c"}, 0},
		{long + "\nafter\n", []string{long[:maxReflogLine], "after\n"}, 1},
		{long, []string{long[:maxReflogLine]}, 1},
	} {
		var got []string
		cut := 0
		if err := nonblock.EachLine(strings.NewReader(tc.in), maxReflogLine, func(b []byte, c bool) {
			got = append(got, string(b))
			if c {
				cut++
			}
		}); err != nil {
			t.Errorf("%.20q: %v", tc.in, err)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%.20q: %d lines %.40q, want %d %.40q", tc.in, len(got), got, len(tc.want), tc.want)
		}
		if cut != tc.cut {
			t.Errorf("%.20q: %d lines cut, want %d", tc.in, cut, tc.cut)
		}
	}
	boom := errors.New("boom")
	var n int
	err := nonblock.EachLine(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), maxReflogLine, func([]byte, bool) { n++ })
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("a read error: %v after %d lines, want boom after 2", err, n)
	}
}
