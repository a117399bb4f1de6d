package finding

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// hidden is what a URL's secret parts (user information, query values,
// fragment) are replaced with.
const hidden = "***"

// RedactURL returns rawURL safe to print: user information becomes "***"
// (a token as the user name is common), each query value "***" (query
// strings carry access tokens: ?private_token=, ?access_token=), the
// fragment "***", and a JWS-shaped part of the host or path its redacted
// form. Scheme, host, path and query names are kept, so that the URL still
// says where it points. A URL that cannot be parsed keeps what comes before
// its first '?' or '#', redacted; one that seems to hold credentials all
// the same is replaced whole.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return redactUnparsedURL(rawURL, err != nil)
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString(hidden + "@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?" + redactQuery(u.RawQuery))
	}
	if u.Fragment != "" || u.RawFragment != "" {
		b.WriteString("#" + hidden)
	}
	return RedactText(b.String())
}

// redactUnparsedURL is RedactURL for what url.Parse refuses or reads as
// no URL (scp-like "git@host:path", a bare path).
func redactUnparsedURL(raw string, broken bool) string {
	if broken && strings.Contains(raw, "://") && strings.Contains(raw, "@") {
		return "[a URL with credentials]"
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i+1] + hidden
	}
	return RedactText(raw)
}

// redactQuery keeps a query's names and hides its values; an item without
// '=' is hidden whole.
func redactQuery(q string) string {
	items := strings.Split(q, "&")
	for i, it := range items {
		name, value, ok := strings.Cut(it, "=")
		switch {
		case !ok && it != "":
			items[i] = hidden
		case ok && value != "":
			items[i] = name + "=" + hidden
		}
	}
	return strings.Join(items, "&")
}

// RedactURLIn removes rawURL's secrets from msg (a transport library's
// error about it): the URL itself wherever msg quotes it, and its user
// information, password, query values and fragment in every form the
// library might have quoted them (as given, unescaped, escaped). Parts
// shorter than 4 characters are left: short user names ("git") are not
// secrets, and replacing them would garble the message.
func RedactURLIn(msg, rawURL string) string {
	msg = strings.ReplaceAll(msg, rawURL, RedactURL(rawURL))
	u, err := url.Parse(rawURL)
	if err != nil {
		return msg
	}
	var secrets []string
	add := func(s string) {
		secrets = append(secrets, s, url.QueryEscape(s), url.PathEscape(s))
		if un, err := url.QueryUnescape(s); err == nil {
			secrets = append(secrets, un)
		}
	}
	if u.User != nil {
		add(u.User.String())
		add(u.User.Username())
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
	}
	for _, it := range strings.Split(u.RawQuery, "&") {
		if _, v, ok := strings.Cut(it, "="); ok {
			add(v)
		} else {
			add(it)
		}
	}
	add(u.EscapedFragment())
	add(u.Fragment)
	// Longest first, so that a part is not left half replaced by a
	// shorter one it contains.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, hidden)
		}
	}
	return msg
}
