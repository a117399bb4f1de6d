// Package scanner reads the places keys hide and runs the rules over them.
//
// It owns all I/O: the directory walker, standard input, archives and gzip,
// the base64 and UTF-16 decoders, and the streaming of large files in
// chunks. It turns the rules' byte offsets into paths, lines and columns,
// and hands each [Finding] and each [Warning] to a [Sink]. It prints
// nothing: what to show is the caller's choice.
package scanner
