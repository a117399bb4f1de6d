package finding

import "fmt"

// HumanBytes formats a byte count for messages in binary units, one
// decimal place: "512 bytes", "1.5 MiB". Caps and sizes in warnings are
// powers of two, which binary units show whole.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
