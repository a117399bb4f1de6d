package scanner_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/scanner"
)

// A source written on the engine's API: named pieces of content held in
// memory, scanned on the scan's workers.
func Example_source() {
	docs := map[string]string{
		"config/app.env": "LOFTY_API_KEY=" + testtoken.Key("example", time.Time{}) + "\n",
		"README":         "nothing to see\n",
	}
	c := &scanner.Collector{}
	r := scanner.New(scanner.DefaultOptions()).Start(c)
	jobs := make(chan func(context.Context, *scanner.Worker))
	go func() {
		defer close(jobs)
		for _, name := range slices.Sorted(maps.Keys(docs)) {
			jobs <- func(ctx context.Context, w *scanner.Worker) {
				if err := w.ScanBytes(ctx, name, []byte(docs[name])); err != nil {
					r.Fail(name, "read error: %v", err)
				}
			}
		}
	}()
	r.Pool(context.Background(), jobs)
	for _, f := range c.Sorted() {
		fmt.Println(f.Path, f.Line, f.Column, f.RuleID, f.Redacted())
	}
	st := r.Stats()
	fmt.Println(st.Files, "files,", st.Errors, "errors")
	// Output:
	// config/app.env 1 15 lofty-api-key eyJ…j6vk#edd502a3
	// 2 files, 0 errors
}
