package rules

// The old brand. Lofty was called Chime, and keys of that time sit under
// names such as CHIME_API_KEY or chime_token, or next to the CRM's domain,
// chime.me. But "chime" is also Amazon Chime: its SDK (amazon-chime-sdk-js,
// @aws-sdk/client-chime-sdk-meetings, ChimeSDKMeetings), its clients
// (new AWS.Chime(), chime.createMeeting(...)), its ARNs and IAM actions
// (arn:aws:chime::, chime:CreateAttendee). A JWT on such a line (a Supabase
// key in a meeting app, say) is not a Lofty token. So "chime" is context
// only where it names the CRM's credentials or domain, never a bare word.

// oldBrand is the context name matched by chimeContext rather than as a
// substring.
const oldBrand = "chime"

// credentialParts are the parts of a name that make a chime name the CRM's
// credential: CHIME_API_KEY, chime_token, chimeSecret, CHIME_AUTH, and the
// product itself, ChimeCRM or "Chime CRM".
var credentialParts = []string{"key", "keys", "apikey", "token", "tokens", "secret", "secrets", "auth", "crm"}

// amazonParts are the parts of a name that say Amazon Chime whatever else
// the name holds: ChimeSDKMeetings, amazon-chime-sdk-js, ChimeKMSKey,
// chimeMeetingId, x-amz-chime-event-type, CHIME_SDK_TOKEN.
var amazonParts = []string{
	"amazon", "aws", "amz", "amzn", "sdk", "kms", "arn", "iam", "lambda", "meeting", "meetings",
	"attendee", "attendees", "media", "pipeline", "pipelines", "messaging", "voice", "sip", "channel",
}

// chimeContext reports whether "chime" names the CRM on the token's line:
// before and after are the text on either side of the token (see
// HasLoftyContext).
func chimeContext(before, after []byte) bool {
	return anyCRMChime(before, true) || anyCRMChime(after, false)
}

// anyCRMChime reports whether some "chime" in s (any case) names the CRM;
// tokenAfter says that the token follows s.
func anyCRMChime(s []byte, tokenAfter bool) bool {
	k := oldBrandRarest
	for i := 0; ; i++ {
		j := indexFold(s, i, oldBrand, k)
		if j < 0 {
			return false
		}
		if crmChime(s, j, tokenAfter) {
			return true
		}
		i = j
	}
}

// crmChime reports whether the "chime" at s[i:] names the CRM: it is a whole
// part of a name (not "chimes", "chimera") and the name has a credential
// part and no Amazon part, or the word after it is one ("Chime CRM", "chime
// token"); or it is the domain chime.me; or, with the token right after,
// it is the whole name the token is given (chime: <token>, CHIME =
// "<token>"; not ChimeServicePrincipal: <token>).
// An Amazon word before it ("Amazon Chime", "AWS Chime") or a method call
// (chime.createMeeting(...)) rules it out.
func crmChime(s []byte, i int, tokenAfter bool) bool {
	end := i + len(oldBrand)
	w0, w1 := i, end // the name: letters, digits, '_' and '-'
	for w0 > 0 && isNameByte(s[w0-1]) {
		w0--
	}
	for w1 < len(s) && isNameByte(s[w1]) {
		w1++
	}
	if !partStart(s, w0, i) || !partEnd(s, end, w1) {
		return false
	}
	if isDomain(s, w0, end) {
		return true
	}
	if hasPart(s[w0:w1], amazonParts) || hasPart(wordBefore(s, w0), amazonParts) || isMethodCall(s, w1) {
		return false
	}
	next := phraseAfter(s, w1)
	if hasPart(next, amazonParts) {
		return false
	}
	if hasPart(s[w0:w1], credentialParts) || hasPart(next, credentialParts) {
		return true
	}
	return tokenAfter && w0 == i && w1 == end && namesToken(s[w1:])
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

func isAlnum(c byte) bool { return isNameByte(c) && c != '_' && c != '-' }

func isLowerOrDigit(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
func isUpperByte(c byte) bool    { return 'A' <= c && c <= 'Z' }

// partStart reports whether a part of the name starting at s[w0:] begins at
// s[i]: the name's start, after '_' or '-', or a lower-case letter or digit
// followed by the capital that starts it (v3ChimeClient).
func partStart(s []byte, w0, i int) bool {
	return i == w0 || s[i-1] == '_' || s[i-1] == '-' || isLowerOrDigit(s[i-1]) && isUpperByte(s[i])
}

// partEnd reports whether a part ends at s[end] inside a name ending at w1:
// the name's end, '_' or '-', a capital after a lower-case letter
// (ChimeSDK, chimeToken), or a digit.
func partEnd(s []byte, end, w1 int) bool {
	if end == w1 || s[end] == '_' || s[end] == '-' || '0' <= s[end] && s[end] <= '9' {
		return true
	}
	return !isUpperByte(s[end-1]) && isUpperByte(s[end])
}

// isDomain reports whether the chime at s[w0:end], a whole name, is the
// CRM's domain chime.me (help.chime.me, https://chime.me/).
func isDomain(s []byte, w0, end int) bool {
	if end != w0+len(oldBrand) || end+3 > len(s) || s[end] != '.' || toLower(s[end+1]) != 'm' || toLower(s[end+2]) != 'e' {
		return false
	}
	return end+3 == len(s) || !isNameByte(s[end+3])
}

// isMethodCall reports whether a call follows the name ending at s[w1:]:
// .createMeeting( or ?.send(, the way code uses an SDK client.
func isMethodCall(s []byte, w1 int) bool {
	i := w1
	if i < len(s) && s[i] == '?' {
		i++
	}
	if i >= len(s) || s[i] != '.' {
		return false
	}
	j := i + 1
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	return j > i+1 && j < len(s) && s[j] == '('
}

// wordBefore returns the name before s[w0:], separated from it by blanks or
// one of . / : @ (Amazon Chime, AWS.Chime, arn:aws:chime); wordAfter the
// bounds of the name after s[w1:], separated by blanks (Chime CRM, Chime
// SDK).
func wordBefore(s []byte, w0 int) []byte {
	i := w0
	for i > 0 && (s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '.' || s[i-1] == '/' || s[i-1] == ':' || s[i-1] == '@') && w0-i < 3 {
		i--
	}
	if i == w0 && w0 > 0 {
		return nil
	}
	j := i
	for j > 0 && isNameByte(s[j-1]) {
		j--
	}
	return s[j:i]
}

func wordAfter(s []byte, w1 int) (int, int) {
	i := w1
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') && i-w1 < 2 {
		i++
	}
	if i == w1 {
		return w1, w1
	}
	j := i
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	return i, j
}

// phraseAfter returns the word after s[w1:] (see wordAfter), and the word
// after that when the first is "api" or "access": "chime api key".
func phraseAfter(s []byte, w1 int) []byte {
	i, j := wordAfter(s, w1)
	if j > i && hasPart(s[i:j], []string{"api", "access"}) {
		_, j = wordAfter(s, j)
	}
	return s[i:j]
}

// namesToken reports whether the text between a name and the token is that
// of a key or an assignment: quotes, blanks and at least one ':' or '='.
func namesToken(between []byte) bool {
	assign := false
	for _, c := range between {
		switch c {
		case ':', '=':
			assign = true
		case ' ', '\t', '"', '\'', '`':
		default:
			return false
		}
	}
	return assign
}

// hasPart reports whether the name has one of parts (lower case) as a
// whole part: names split at '_', '-' (any byte not a letter or digit),
// and at case changes (chimeApiKey is
// chime, api, key; ChimeSDKMeetings is chime, sdk, meetings).
func hasPart(name []byte, parts []string) bool {
	for len(name) > 0 && !isAlnum(name[0]) {
		name = name[1:]
	}
	for len(name) > 0 {
		n := partLen(name)
		for _, p := range parts {
			if n == len(p) && equalFold(name[:n], p) {
				return true
			}
		}
		name = name[n:]
		for len(name) > 0 && !isAlnum(name[0]) {
			name = name[1:]
		}
	}
	return false
}

// partLen returns the length of the first part of name: a run of digits,
// an acronym (up to the capital that starts the next word, as SDK in
// SDKMeetings), or a letter and the lower-case letters after it.
func partLen(name []byte) int {
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	i := 1
	switch {
	case isDigit(name[0]):
		for i < len(name) && isDigit(name[i]) {
			i++
		}
	case isUpperByte(name[0]) && len(name) > 1 && isUpperByte(name[1]):
		for i < len(name) && isUpperByte(name[i]) {
			i++
		}
		if i < len(name) && 'a' <= name[i] && name[i] <= 'z' {
			i--
		}
	default:
		for i < len(name) && 'a' <= name[i] && name[i] <= 'z' {
			i++
		}
	}
	return i
}
