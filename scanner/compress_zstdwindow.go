package scanner

import (
	"bytes"
	"encoding/binary"
	"io"
)

// A zstd frame header claims the window its decoder holds, and the zstd
// tool writes 128 MiB for any input it reads from a pipe with --long=27:
// 500 files of 60 bytes each claiming it took 9.6 s of allocating and
// clearing memory (a history of 100,000 such blobs, half an hour). So a
// stream that ends within zstdLookahead is read whole first, and each of
// its frames gets the window its blocks can use (shrinkZstdWindows): a
// frame's data never reaches back past its start. What its blocks can use
// is counted without decoding them, 128 KiB for each compressed block (a
// frame of zstd -19 splits 150 KB of text into blocks that count 6 MiB):
// enough for the streams of one block a crafted claim makes. A longer
// stream keeps the windows it claims, and has at least zstdLookahead
// bytes for each.

// zstdLookahead is how much of a zstd stream is read before its decoder
// is opened: half of replayMax, so that a stream then refused is still
// kept whole to be scanned as plain bytes.
const zstdLookahead = replayMax / 2

// zstdBlockMax is the most one block decodes to (RFC 8878, 3.1.1.2.3).
const zstdBlockMax = 128 << 10

// zstdWindowMin is the least window a frame can claim.
const zstdWindowMin = 1 << 10

// lookZstd reads up to zstdLookahead bytes of rd. When rd ends there, the
// stream is returned with its windows shrunk (whole is true), each to no
// more than most, and widest is the widest window among its frames; else
// what was read followed by the rest of rd, unchanged.
func lookZstd(rd io.Reader, ratio int64) (stream io.Reader, head []byte, whole bool, widest int64, err error) {
	buf, err := io.ReadAll(io.LimitReader(rd, zstdLookahead+1)) // grows as it reads: most are small
	switch {
	case err != nil:
		return io.MultiReader(bytes.NewReader(buf), failedReader{err}), buf, false, 0, err
	case len(buf) > zstdLookahead:
		return io.MultiReader(bytes.NewReader(buf), rd), buf, false, 0, nil
	}
	buf, widest = shrinkZstdWindows(buf, windowMost(int64(len(buf)), ratio))
	return bytes.NewReader(buf), buf, true, widest, nil
}

// windowMost is the most window a decoder of n compressed bytes can use
// for what is scanned: the ratio cap stops the output past ratioFloor and
// ratio times n, and no match reaches back past the output. ratio 0 (the
// cap off) bounds nothing.
func windowMost(n, ratio int64) int64 {
	if ratio <= 0 || n > (1<<62)/ratio {
		return 1 << 62
	}
	return max(ratioFloor, ratio*n)
}

// shrinkZstdWindows returns a zstd stream held whole with each frame that
// claims more window than its blocks decode to (at most most) written
// with that window instead: a frame with a window descriptor gets a
// smaller one; a single-segment frame (whose window is the content size
// it claims) gets a window descriptor and no content size. Frames after
// anything it cannot walk are left as they are, for the decoder to judge.
// widest is the widest window among the frames walked, as written.
func shrinkZstdWindows(b []byte, most int64) (out []byte, widest int64) {
	for len(b) >= 4 {
		magic := binary.LittleEndian.Uint32(b)
		if magic&0xfffffff0 == 0x184d2a50 { // skippable frame
			if len(b) < 8 {
				break
			}
			n := 8 + int64(binary.LittleEndian.Uint32(b[4:]))
			if n > int64(len(b)) {
				break
			}
			out, b = append(out, b[:n]...), b[n:]
			continue
		}
		if magic != 0xfd2fb528 {
			break
		}
		frame, used, ok := zstdFrame(b)
		if !ok {
			break
		}
		f := rewindowed(b[:frame], min(used, most))
		if w, ok := zstdWindow(f); ok {
			widest = max(widest, w)
		}
		out, b = append(out, f...), b[frame:]
	}
	return append(out, b...), widest
}

// zstdFrame walks the frame at the start of b: its length, and the most
// its blocks decode to. ok is false when b does not hold it whole.
func zstdFrame(b []byte) (n int, used int64, ok bool) {
	if len(b) < 5 {
		return 0, 0, false
	}
	fhd := b[4]
	at := 5 + [4]int{0, 1, 2, 4}[fhd&3]
	if fhd&0x20 == 0 {
		at++ // the window descriptor
	}
	fcs := [4]int{0, 2, 4, 8}[fhd>>6]
	if fhd>>6 == 0 && fhd&0x20 != 0 {
		fcs = 1
	}
	at += fcs
	for {
		if at+3 > len(b) {
			return 0, 0, false
		}
		h := int(b[at]) | int(b[at+1])<<8 | int(b[at+2])<<16
		last, typ, size := h&1 == 1, (h>>1)&3, h>>3
		at += 3
		switch typ {
		case 0: // raw
			at += size
			used += int64(size)
		case 1: // RLE: one byte, repeated size times
			at++
			used += int64(size)
		case 2:
			at += size
			used += zstdBlockMax
		default:
			return 0, 0, false
		}
		if at > len(b) {
			return 0, 0, false
		}
		if last {
			break
		}
	}
	if fhd&4 != 0 {
		at += 4 // content checksum
	}
	return at, used, at <= len(b)
}

// rewindowed returns frame with the smallest window that holds used
// bytes, when that is less than the window it claims.
func rewindowed(frame []byte, used int64) []byte {
	fhd := frame[4]
	w, ok := zstdWindow(frame)
	if !ok {
		return frame
	}
	wd := zstdWindowFor(max(used, zstdWindowMin))
	base := int64(1) << (10 + wd>>3)
	if base+base/8*int64(wd&7) >= w {
		return frame
	}
	if fhd&0x20 == 0 {
		out := bytes.Clone(frame)
		out[5] = wd
		return out
	}
	// Single segment: keep the dictionary ID, drop the content size.
	did := [4]int{0, 1, 2, 4}[fhd&3]
	fcs := [4]int{1, 2, 4, 8}[fhd>>6]
	out := make([]byte, 0, len(frame)+1)
	out = append(out, frame[:4]...)
	out = append(out, fhd&0x0f, wd) // no single segment, no content size
	out = append(out, frame[5:5+did]...)
	return append(out, frame[5+did+fcs:]...)
}

// zstdWindowFor returns the smallest window descriptor whose window holds n.
func zstdWindowFor(n int64) byte {
	for e := byte(0); e < 32; e++ {
		base := int64(1) << (10 + e)
		for m := byte(0); m < 8; m++ {
			if base+base/8*int64(m) >= n {
				return e<<3 | m
			}
		}
	}
	return 31<<3 | 7
}
