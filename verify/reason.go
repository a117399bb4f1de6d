package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// Reasons are built only from the fixed texts in this file: the errors of
// net/http, crypto/tls and the resolver quote what the server sent (a bad
// status line, a certificate's names, a DNS answer), and a hostile server
// could put the key, escape sequences or megabytes there.

// contextReason describes why ctx ended; sent says whether the key had
// reached the wire (or was being sent) when it did.
func contextReason(ctx context.Context, sent bool) string {
	switch {
	case !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ReasonInterrupted
	case sent:
		return ReasonTimeoutDuring
	default:
		return ReasonTimeoutBefore
	}
}

// errorReason describes a failed request. ctx is the caller's context, not
// the per-request one.
func (v *Verifier) errorReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return contextReason(ctx, true)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timeout: no answer within " + v.timeout.String()
	}
	return networkReason(err)
}

// networkReason names the kind of a transport error in our own words.
func networkReason(err error) string {
	var (
		dnsErr      *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		opErr       *net.OpError
	)
	switch {
	case errors.As(err, &dnsErr):
		return "network error: host name lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "network error: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "network error: connection reset by the server"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "network error: the server closed the connection without an answer"
	case errors.As(err, &unknownCA):
		return "TLS error: certificate signed by an unknown authority"
	case errors.As(err, &hostErr):
		return "TLS error: certificate not valid for this host"
	case errors.As(err, &invalidCert):
		return "TLS error: certificate expired or not valid"
	case errors.As(err, &verifyErr):
		return "TLS error: certificate verification failed"
	case errors.As(err, &recordErr), errors.Is(err, http.ErrSchemeMismatch):
		return "TLS error: the server did not answer with TLS"
	case errors.As(err, &alertErr):
		return "TLS error: the server refused the handshake"
	case strings.Contains(err.Error(), "server response headers exceeded"):
		// net/http has no exported error for this.
		return "network error: response headers too large"
	case strings.Contains(err.Error(), "malformed"):
		// "malformed HTTP response", "malformed MIME header line", ...
		return "network error: malformed HTTP response"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "network error: cannot connect"
	default:
		return "network error: no usable HTTP response"
	}
}
