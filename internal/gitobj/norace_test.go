//go:build !race

package gitobj

// raceBuild is true under the race detector, which changes what is
// allocated: the tests of bytes an object run in .ci/run without it.
const raceBuild = false
