//go:build race

package rules

// raceEnabled is true under the race detector, which slows code ~10x.
const raceEnabled = true
