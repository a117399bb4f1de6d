package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loftyscan/loftyscan/config"
)

func ExampleLoad() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, ".loftyscan.toml")
	os.WriteFile(path, []byte(`skip = ["vendor/**", "!vendor/keep.env"]

[archives]
depth = 2
entry_bytes = "64MiB"
`), 0o644)
	c, err := config.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Skip, *c.Archives.Depth, *c.Archives.EntryBytes)
	// Not set in the file: the CLI keeps its flag or default.
	fmt.Println(c.Scopes == nil, c.Archives.Ratio == nil)

	os.WriteFile(path, []byte("[archives]\ndept = 3\n"), 0o644)
	_, err = config.Load(path)
	fmt.Println(strings.TrimPrefix(err.Error(), "config "+path))
	// Output:
	// [vendor/** !vendor/keep.env] 2 67108864
	// true true
	// :2: unknown key "archives.dept" (did you mean "archives.depth"?)
}

func ExampleSkipMatcher() {
	m, err := config.NewSkipMatcher([]string{"vendor/**", "!vendor/keep.env", "*.min.js"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []string{"vendor/lib/a.go", "vendor/keep.env", "web/app.min.js", "web/app.js"} {
		fmt.Println(p, m.Match(p, false))
	}
	// Output:
	// vendor/lib/a.go true
	// vendor/keep.env false
	// web/app.min.js true
	// web/app.js false
}

func ExampleIgnoreList_Suppresses() {
	const file = `# synthetic keys signed with the test secret
bc8bb4d6c3b6ec2f1378f9017f2dc85c94960b9e573908f83f73467a3012301b testdata/**
e35534ef7621f973c72d596ce99f3357f272dd7b8c5a088f299a21f8877ce4f1  # revoked 2024-05-02
`
	l, err := config.ParseIgnore(strings.NewReader(file), ".loftyscanignore")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Suppresses("bc8bb4d6c3b6ec2f1378f9017f2dc85c94960b9e573908f83f73467a3012301b", "testdata/keys.env"))
	fmt.Println(l.Suppresses("bc8bb4d6c3b6ec2f1378f9017f2dc85c94960b9e573908f83f73467a3012301b", "src/app.env"))
	fmt.Println(l.Suppresses("e35534ef7621f973c72d596ce99f3357f272dd7b8c5a088f299a21f8877ce4f1", "outer.zip!inner/file"))
	// Output:
	// .loftyscanignore:2: synthetic keys signed with the test secret true
	//  false
	// .loftyscanignore:3: revoked 2024-05-02 true
}
