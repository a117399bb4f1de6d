package ghaction

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
)

// Env is what the runner tells a step about the event, from its
// environment variables.
type Env struct {
	EventName string // GITHUB_EVENT_NAME: push, pull_request, merge_group, schedule...
	EventPath string // GITHUB_EVENT_PATH: the event's JSON payload
	Ref       string // GITHUB_REF: the push's ref when the payload has none
}

// EnvFrom reads Env through getenv (os.Getenv, or a test's map).
func EnvFrom(getenv func(string) string) Env {
	return Env{
		EventName: getenv("GITHUB_EVENT_NAME"),
		EventPath: getenv("GITHUB_EVENT_PATH"),
		Ref:       getenv("GITHUB_REF"),
	}
}

// Inputs are the action's inputs that choose the commits instead of the
// event (action.yml: range, base, head). Each is empty when not given.
type Inputs struct {
	Range string // A..B, or one revision (its whole history)
	Base  string // scan from merge-base(Base, head)
	Head  string // the last commit to scan instead of the event's
}

// maxEventSize bounds the event file read into memory. GitHub caps a
// webhook payload at 25 MB; a file larger than this is not an event.
const maxEventSize = 32 << 20

// payload is the part of an event's JSON the ranges use. Every other field
// is ignored, whatever its type; a field here of the wrong type (a number
// for a commit name) makes the file unusable. null reads as "".
type payload struct {
	// push
	Ref    string `json:"ref"`
	Before string `json:"before"`
	After  string `json:"after"`
	// pull_request, pull_request_target
	PullRequest struct {
		Base struct {
			SHA string `json:"sha"`
		} `json:"base"`
		Head struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	// merge_group
	MergeGroup struct {
		BaseSHA string `json:"base_sha"`
		HeadSHA string `json:"head_sha"`
	} `json:"merge_group"`
	// every event of a repository
	Repository struct {
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

// DefaultBranch returns the repository's default branch as the event
// names it (repository.default_branch: "main"), or "" when there is no
// event file or it names none. A scan with no base of its own (a whole
// history) reads its settings from that branch, whose content the team
// reviewed. The name is checked as a branch name before it is returned.
func DefaultBranch(env Env) (string, error) {
	if env.EventPath == "" {
		return "", nil
	}
	p, err := readPayload(env)
	if err != nil {
		return "", err
	}
	b := p.Repository.DefaultBranch
	if b == "" {
		return "", nil
	}
	if err := checkRef(eventField(env, "repository.default_branch"), "refs/heads/"+b); err != nil {
		return "", err
	}
	return b, nil
}

// readPayload reads and decodes the event file.
func readPayload(env Env) (*payload, error) {
	if env.EventPath == "" {
		return nil, &Error{
			Kind:    ErrEvent,
			Message: fmt.Sprintf("the %s event needs its event file, and GITHUB_EVENT_PATH is not set", eventName(env)),
			Hint:    "run the action in a GitHub Actions job, or set the action's base and head inputs (or range)",
		}
	}
	f, err := os.Open(env.EventPath)
	if err != nil {
		msg := fmt.Sprintf("cannot read the event file %q (GITHUB_EVENT_PATH)", env.EventPath)
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("the event file %q (GITHUB_EVENT_PATH) does not exist", env.EventPath)
		}
		return nil, &Error{Kind: ErrEvent, Message: msg, Hint: "the runner writes this file for every job: do not override GITHUB_EVENT_PATH, or set the action's base and head inputs (or range)", Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEventSize+1))
	if err != nil {
		return nil, &Error{Kind: ErrEvent, Message: fmt.Sprintf("cannot read the event file %q: %v", env.EventPath, err), Err: err}
	}
	if len(data) > maxEventSize {
		return nil, &Error{
			Kind:    ErrEvent,
			Message: fmt.Sprintf("the event file %q is larger than %d MiB, which no GitHub event is", env.EventPath, maxEventSize>>20),
			Hint:    "check what wrote GITHUB_EVENT_PATH, or set the action's base and head inputs (or range)",
		}
	}
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, &Error{
			Kind:    ErrEvent,
			Message: fmt.Sprintf("the event file %q is not a usable %s event: %v", env.EventPath, eventName(env), jsonProblem(err)),
			Hint:    "the runner writes this file as JSON: check what wrote GITHUB_EVENT_PATH, or set the action's base and head inputs (or range)",
			Err:     err,
		}
	}
	return &p, nil
}

// jsonProblem says where a JSON error is, in the terms of the file.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		want := "a string"
		if typ.Type != nil && typ.Type.Kind() == reflect.Struct {
			want = "an object"
		}
		field := typ.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Sprintf("%s is a JSON %s, where %s is expected", field, typ.Value, want)
	}
	return err.Error()
}

func eventName(env Env) string {
	if env.EventName == "" {
		return "unknown"
	}
	return env.EventName
}
