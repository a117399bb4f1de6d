//go:build !amd64

package rules

// useVector is false: there is no vector code for this architecture.
const useVector = false

func scanVector(buf []byte, start, runFrom int, t *nibbleTables) (pos, kind int) {
	return start, eventNone
}
