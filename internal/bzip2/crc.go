package bzip2

// bzip2's CRC is CRC-32 with polynomial 0x04c11db7 taken most significant
// bit first (hash/crc32 takes it least significant first): eight tables, so
// that eight bytes are folded in at a time.
var crcTab = func() (t [8][256]uint32) {
	for i := range t[0] {
		c := uint32(i) << 24
		for range 8 {
			if c&(1<<31) != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for i := range t[0] {
		for k := 1; k < 8; k++ {
			t[k][i] = t[k-1][i]<<8 ^ t[0][t[k-1][i]>>24]
		}
	}
	return t
}()

// updateCRC folds p into crc (not inverted: start at 0xffffffff and invert
// at the end).
func updateCRC(crc uint32, p []byte) uint32 {
	for len(p) >= 8 {
		a := crc ^ uint32(p[0])<<24 ^ uint32(p[1])<<16 ^ uint32(p[2])<<8 ^ uint32(p[3])
		crc = crcTab[7][a>>24] ^ crcTab[6][a>>16&0xff] ^ crcTab[5][a>>8&0xff] ^ crcTab[4][a&0xff] ^
			crcTab[3][p[4]] ^ crcTab[2][p[5]] ^ crcTab[1][p[6]] ^ crcTab[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ crcTab[0][byte(crc>>24)^b]
	}
	return crc
}
