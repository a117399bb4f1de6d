package rules

import (
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// TestOldBrand: "chime" puts a generic JWT in a Lofty context where it
// names the CRM's credentials or domain, and not where it means Amazon
// Chime (its SDK, clients, ARNs, IAM actions) or is a bare word.
func TestOldBrand(t *testing.T) {
	t.Parallel()
	crm := []string{
		"CHIME_API_KEY=%s",
		"export CHIME_TOKEN='%s'",
		"chime_token: %s",
		"const chimeApiKey = \"%s\";",
		"ChimeSecret = `%s`",
		"CHIME_AUTH=%s",
		"PROD_CHIME_KEY=%s",
		"REACT_APP_CHIME_TOKEN=%s",
		"chime-token: %s",
		"chimeCRM: %s",
		"curl https://api.chime.me/v1.0/me -H 'X: %s'",
		"# help.chime.me\t%s",
		"url = \"https://chime.me/\" key = \"%s\"",
		"%s  # Chime CRM",
		"%s // chime token",
		"%s // chime api key, rotated",
		"chime: %s",
		"CHIME=%s",
		`{"chime": "%s"}`,
		"Chime = '%s'",
	}
	amazon := []string{
		"await chime.createMeeting({ ClientRequestToken: '%s' });",
		"const meeting = await chime?.send(new CreateMeetingCommand({ Token: '%s' }));",
		"import { ChimeSDKMeetingsClient } from '@aws-sdk/client-chime-sdk-meetings'; // %s",
		"const { ChimeClient } = require('@aws-sdk/client-chime'); const t = '%s';",
		"\"amazon-chime-sdk-js\": \"%s\"",
		"const chime = new AWS.Chime({ region: 'us-east-1' }); token = '%s'",
		"const chime = new AWS.ChimeSDKMeetings({ region: '%s' });",
		"const chime = new ChimeSDKMessagingClient({ region: 'us-east-1' }); const supabase = '%s'",
		"chimeSDKMeetings.createAttendee(%s)",
		"SourceArn: `arn:aws:chime::${account}:meeting:%s`",
		"Action: chime:CreateAttendee %s",
		"// The Amazon Chime SDK for JavaScript %s",
		"// an issue with the Chime service %s",
		"// Chime SDK token %s",
		"ChimeKMSKey: %s",
		"chimeMeetingId = '%s'",
		"x-amz-chime-event-type: %s",
		"https://static.sdkassets.chime.aws/%s",
		"CHIME_SDK_TOKEN=%s",
		"chimes = '%s'",
		"chimera_key = '%s'",
		"MYCHIMETOKEN=%s",
		"chime %s",
		"chime.endpoint = '%s'",
		"  ChimeServicePrincipal:  \"%s\"",
		"ChimeBrowserLogs: %s",
	}
	gen := testtoken.Generic("anon")
	for _, set := range []struct {
		lines []string
		want  bool
	}{{crm, true}, {amazon, false}} {
		for _, line := range set.lines {
			buf := []byte(strings.Replace(line, "%s", gen, 1))
			got := cfg.Find(buf)
			if (len(got) == 1) != set.want || len(got) > 1 {
				t.Errorf("%q: reported %s, want reported %v", line, describe(got), set.want)
			}
			sameMatches(t, line, got, oracle.Find(buf))
		}
	}
	// A configured name other than chime is still a plain substring.
	c := Config{Now: now, ContextNames: []string{"lofty", "chime", "acme"}}
	if got := c.Find([]byte("AcmeChime=" + gen)); len(got) != 1 {
		t.Errorf("acme: reported %s", describe(got))
	}
	if got := c.Find([]byte("await chime.createMeeting('" + gen + "')")); len(got) != 0 {
		t.Errorf("chime listed in the configuration: reported %s", describe(got))
	}
}

// TestHasPart checks how names split into parts.
func TestHasPart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, part string
		want       bool
	}{
		{"CHIME_API_KEY", "key", true},
		{"chimeApiKey", "api", true},
		{"ChimeSDKMeetings", "sdk", true},
		{"ChimeSDKMeetings", "meetings", true},
		{"chimeSdkVersion", "sdk", true},
		{"v3ChimeClient", "client", true},
		{"amazon-chime-sdk-js", "amazon", true},
		{"ChimeKMSKey", "kms", true},
		{"ChimeKMSKey", "key", true},
		{"monkey", "key", false},
		{"tokenizer", "token", false},
		{"AWSChime", "aws", true},
		{"chime2token", "token", true},
	}
	for _, tt := range tests {
		if got := hasPart([]byte(tt.name), []string{tt.part}); got != tt.want {
			t.Errorf("hasPart(%q, %q) = %v, want %v", tt.name, tt.part, got, tt.want)
		}
	}
}
