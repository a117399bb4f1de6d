//go:build !linux

package scanner

// readEntries lists the open folder d; buf is not needed.
func readEntries(d *dirHandle, _ []byte) ([]dirEntry, error) {
	des, err := d.f.ReadDir(-1)
	entries := make([]dirEntry, len(des))
	for i, e := range des {
		entries[i] = dirEntry{name: e.Name(), typ: e.Type()}
	}
	return entries, err
}
