package scanner

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// jwtFixtures is about 4 MB of JSON fixtures dense with generic (non-Lofty)
// JWTs, a record of about 200 bytes each, the shape of scripts/bench.sh's
// dir-jwt tree: every token must be judged, and its payload and signature
// are runs of base64 the decoders look into.
func jwtFixtures() []byte {
	var b bytes.Buffer
	b.WriteString("{\n  \"sessions\": [\n")
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "    {\"id\": %d, \"user\": \"user%d@example.com\", \"access_token\": %q},\n",
			i, i, testtoken.Generic(fmt.Sprintf("user-%d", i)))
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

// BenchmarkScanReaderJWTs is BenchmarkScanReader over JSON fixtures dense
// with generic JWTs: the cost of judging and looking into tokens that are
// not keys.
func BenchmarkScanReaderJWTs(b *testing.B) {
	data := jwtFixtures()
	s := New(testOptions())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		st, err := s.ScanReader(context.Background(), "in", bytes.NewReader(data), &Collector{})
		if err != nil || st.Findings != 0 {
			b.Fatal(err, st.Findings)
		}
	}
}
