//go:build race

package leakcheck

// raceBuild is true under the race detector, which slows code ~10x.
const raceBuild = true
