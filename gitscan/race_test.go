//go:build race

package gitscan

// raceBuild is true under the race detector, which slows code ~10x:
// tests that stream a hundred megabytes run in .ci/run without it.
const raceBuild = true
