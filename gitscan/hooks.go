package gitscan

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/config"
)

// Hooks: where git runs a repository's hooks from, read from the git
// config files the way git reads them.

// HooksDir finds the folder git runs repo's hooks from, as
// `git rev-parse --git-path hooks` does: core.hooksPath from the
// repository's, the global or the system config (relative to the top of
// the work tree, where git runs hooks; ~ is the home folder), else the
// hooks folder of the repository (shared by its linked worktrees).
func HooksDir(repo *Repository, getenv func(string) string) (string, error) {
	hp, err := configHooksPath(repo, getenv)
	if err != nil {
		return "", err
	}
	if hp == "" {
		return filepath.Join(repo.CommonDir, "hooks"), nil
	}
	if rest, ok := strings.CutPrefix(hp, "~/"); ok || hp == "~" {
		home := getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("core.hooksPath is %q but HOME is not set", hp)
		}
		hp = filepath.Join(home, rest)
	}
	if !filepath.IsAbs(hp) {
		base := repo.WorkTree
		if base == "" {
			base = repo.GitDir
		}
		hp = filepath.Join(base, hp)
	}
	return filepath.Clean(hp), nil
}

// configHooksPath reads core.hooksPath the way git does: system, then
// global, then the repository's config, the last one set winning.
func configHooksPath(repo *Repository, getenv func(string) string) (string, error) {
	var files []string
	if !truthy(getenv("GIT_CONFIG_NOSYSTEM")) {
		sys := getenv("GIT_CONFIG_SYSTEM")
		if sys == "" {
			sys = "/etc/gitconfig"
		}
		files = append(files, sys)
	}
	if g := getenv("GIT_CONFIG_GLOBAL"); g != "" {
		files = append(files, g)
	} else {
		xdg := getenv("XDG_CONFIG_HOME")
		if xdg == "" && getenv("HOME") != "" {
			xdg = filepath.Join(getenv("HOME"), ".config")
		}
		if xdg != "" {
			files = append(files, filepath.Join(xdg, "git", "config"))
		}
		if home := getenv("HOME"); home != "" {
			files = append(files, filepath.Join(home, ".gitconfig"))
		}
	}
	files = append(files, filepath.Join(repo.CommonDir, "config"))
	hp := ""
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || name == os.DevNull {
				continue
			}
			return "", fmt.Errorf("cannot read git config %s: %w", name, err)
		}
		cfg := config.New()
		if err := config.NewDecoder(bytes.NewReader(b)).Decode(cfg); err != nil {
			return "", fmt.Errorf("cannot parse git config %s: %w", name, err)
		}
		for _, s := range cfg.Sections {
			if s.IsName("core") {
				if v := s.Options.Get("hooksPath"); s.Options.Has("hooksPath") || v != "" {
					hp = v
				}
			}
		}
	}
	return hp, nil
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
