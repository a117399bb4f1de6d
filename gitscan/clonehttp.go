package gitscan

import (
	"io"
	"net/http"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// The HTTP client of clones. go-git reads the whole body of a response that
// is not a success into its error, and the error is printed: a server that
// answers 404 with a gigabyte would fill memory and the terminal. Clones
// use a client whose transport cuts such bodies at errorBodyMax bytes;
// successful responses (the refs and the pack) are go-git's to read.

// errorBodyMax is how much of an error response's body is read: enough for
// the one line a forge says ("Repository not found.").
const errorBodyMax = 2 << 10

var boundedHTTP sync.Once

// useBoundedHTTP installs, once, the HTTP client that cuts error bodies
// for go-git's http and https transports.
func useBoundedHTTP() {
	boundedHTTP.Do(func() {
		t := githttp.NewClient(&http.Client{Transport: cutErrorBodies{http.DefaultTransport}})
		client.InstallProtocol("http", t)
		client.InstallProtocol("https", t)
	})
}

// cutErrorBodies is a RoundTripper that cuts the body of every response
// that is not a success.
type cutErrorBodies struct{ base http.RoundTripper }

func (c cutErrorBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || (resp.StatusCode >= 200 && resp.StatusCode < 300) {
		return resp, err
	}
	resp.Body = cutBody{Reader: io.LimitReader(resp.Body, errorBodyMax), body: resp.Body}
	resp.ContentLength = -1
	return resp, nil
}

// cutBody reads the first bytes of a body and closes all of it.
type cutBody struct {
	io.Reader
	body io.Closer
}

func (b cutBody) Close() error { return b.body.Close() }
