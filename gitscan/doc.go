// Package gitscan scans git repositories. It finds a repository
// (FindRepository, RepositoryAt) or clones one (CloneRepository), selects
// the commits to read (every ref, a range, --since, what a push sends),
// walks their trees, each tree once, to find the blobs they introduced,
// has the object store (internal/gitobj) read them and the engine (package
// scanner, through its exported API only) scan them, and attributes each
// key to the commit and path that introduced it. It also scans what the
// commit being made adds (ScanStaged), what a push adds to a server, from
// git's quarantine (ScanPreReceive), and the submodules of HEAD, and
// finds where git runs a repository's hooks from (HooksDir).
package gitscan
