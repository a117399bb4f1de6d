# json_get.awk prints the value at one path of a JSON document, for the
# GitHub Action's scripts on a machine without jq:
#
#   awk -v want=pull_request.base.sha -f json_get.awk event.json
#
# The path is jq's without the leading dot; array elements are [N]. Strings
# are printed as they are in the file (escapes are not decoded); null,
# objects and arrays print nothing. POSIX awk only: it runs under mawk, gawk,
# BusyBox and the BWK awk of macOS.

{ doc = doc $0 "\n" }

END {
	s = doc
	len = length(s)
	pos = 1
	value("")
}

function ws() {
	while (pos <= len && index(" \t\r\n", substr(s, pos, 1)) > 0)
		pos++
}

# str reads the string that starts at pos (at its quote) and returns its
# raw contents.
function str(   start, c) {
	pos++
	start = pos
	while (pos <= len) {
		c = substr(s, pos, 1)
		if (c == "\\") {
			pos += 2
			continue
		}
		if (c == "\"") {
			pos++
			return substr(s, start, pos - 1 - start)
		}
		pos++
	}
	return substr(s, start)
}

function value(path,   c, key, i, v, start) {
	ws()
	c = substr(s, pos, 1)
	if (c == "{") {
		pos++
		ws()
		if (substr(s, pos, 1) == "}") {
			pos++
			return
		}
		while (pos <= len) {
			ws()
			key = str()
			ws()
			pos++ # the colon
			value((path == "") ? key : (path "." key))
			ws()
			c = substr(s, pos, 1)
			pos++
			if (c != ",")
				return
		}
		return
	}
	if (c == "[") {
		pos++
		ws()
		if (substr(s, pos, 1) == "]") {
			pos++
			return
		}
		for (i = 0; pos <= len; i++) {
			value(path "[" i "]")
			ws()
			c = substr(s, pos, 1)
			pos++
			if (c != ",")
				return
		}
		return
	}
	if (c == "\"") {
		v = str()
		if (path == want)
			print v
		return
	}
	# A number, true, false or null.
	start = pos
	while (pos <= len && index(",}] \t\r\n", substr(s, pos, 1)) == 0)
		pos++
	v = substr(s, start, pos - start)
	if (path == want && v != "null")
		print v
}
