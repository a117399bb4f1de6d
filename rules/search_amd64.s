//go:build amd64 && !purego

#include "textflag.h"

// func scanVector(buf []byte, start, runFrom int, t *nibbleTables) (pos, kind int)
//
// Block by block from the block holding start: the block's bytes are split
// into nibbles; from runFrom on, the base64 class tables (looked up with
// VPSHUFB and ANDed) and the zero bytes tell a run block; then the bucket
// tables of the bytes at p and p+1 give the positions where a pair may be.
TEXT ·scanVector(SB), NOSPLIT, $0-64
	MOVQ buf_base+0(FP), SI
	MOVQ buf_len+8(FP), DX
	MOVQ start+24(FP), R9
	MOVQ runFrom+32(FP), R8
	MOVQ t+40(FP), DI
	VMOVDQU 0(DI), Y8    // lo0
	VMOVDQU 32(DI), Y9   // hi0
	VMOVDQU 64(DI), Y10  // lo1
	VMOVDQU 96(DI), Y11  // hi1
	VMOVDQU 128(DI), Y12 // loB64
	VMOVDQU 160(DI), Y13 // hiB64
	VMOVDQU 192(DI), Y15 // 0x0f
	VPXOR Y14, Y14, Y14
	MOVQ R9, AX
	ANDQ $-32, AX
	SUBQ $33, DX // the last block start whose 33 bytes are in buf

loop:
	CMPQ AX, DX
	JGT stop
	VMOVDQU (SI)(AX*1), Y0
	VPSRLW $4, Y0, Y2
	VPAND Y15, Y0, Y1 // low nibbles
	VPAND Y15, Y2, Y2 // high nibbles
	CMPQ AX, R8
	JLT pairs

	// Run blocks.
	VPSHUFB Y1, Y12, Y3
	VPSHUFB Y2, Y13, Y4
	VPAND Y3, Y4, Y3
	VPCMPEQB Y14, Y3, Y3
	VPMOVMSKB Y3, CX
	TESTL CX, CX
	JEQ b64
	VPCMPEQB Y14, Y0, Y3
	VPMOVMSKB Y3, CX
	CMPL CX, $-1431655766 // 0xAAAAAAAA
	JEQ utf16
	CMPL CX, $0x55555555
	JEQ utf16

pairs:
	VPSHUFB Y1, Y8, Y3
	VPSHUFB Y2, Y9, Y4
	VPAND Y3, Y4, Y3
	VMOVDQU 1(SI)(AX*1), Y5
	VPSRLW $4, Y5, Y6
	VPAND Y15, Y5, Y5
	VPAND Y15, Y6, Y6
	VPSHUFB Y5, Y10, Y5
	VPSHUFB Y6, Y11, Y6
	VPAND Y5, Y6, Y5
	VPAND Y5, Y3, Y3
	VPCMPEQB Y14, Y3, Y3
	VPMOVMSKB Y3, R11
	NOTL R11
	CMPQ AX, R9
	JGE masked
	// Drop the positions before start.
	MOVQ R9, CX
	SUBQ AX, CX
	MOVL $-1, R10
	SHLL CX, R10
	ANDL R10, R11

masked:
	TESTL R11, R11
	JNE pair
	ADDQ $32, AX
	JMP loop

pair:
	BSFL R11, R11
	ADDQ R11, AX
	MOVQ AX, pos+48(FP)
	MOVQ $1, kind+56(FP)
	VZEROUPPER
	RET

b64:
	MOVQ AX, pos+48(FP)
	MOVQ $2, kind+56(FP)
	VZEROUPPER
	RET

utf16:
	MOVQ AX, pos+48(FP)
	MOVQ $3, kind+56(FP)
	VZEROUPPER
	RET

stop:
	MOVQ AX, pos+48(FP)
	MOVQ $0, kind+56(FP)
	VZEROUPPER
	RET
