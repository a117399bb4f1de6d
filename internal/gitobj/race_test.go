//go:build race

package gitobj

const raceBuild = true
