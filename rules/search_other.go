//go:build !amd64 || purego

package rules

// useVector is false: there is no vector code for this architecture, or
// the purego build tag leaves it out (to measure and test the plain Go
// search on amd64: go test -tags purego).
const useVector = false

func scanVector(buf []byte, start, runFrom int, t *nibbleTables) (pos, kind int) {
	return start, eventNone
}
