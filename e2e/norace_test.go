//go:build !race

package e2e

// raceBuild is true under the race detector, which slows code ~10x.
const raceBuild = false
