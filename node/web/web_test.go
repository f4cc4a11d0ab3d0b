// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"html/template"
	"testing"
	"time"
)

func TestUISigninLimiterWindow(t *testing.T) {
	var l signinLimiter
	for i := 0; i < signinMaxFails-1; i++ {
		l.fail("user:a")
	}
	if !l.lockedUntil("user:a").IsZero() {
		t.Fatal("locked before the fifth failure")
	}
	l.fail("user:a")
	if until := l.lockedUntil("user:a", "ip:x"); time.Until(until) < signinLockout-time.Minute {
		t.Fatalf("locked until %v, want about %v from now", until, signinLockout)
	}
	if !l.lockedUntil("user:b").IsZero() {
		t.Fatal("another key is locked")
	}
	// Old failures fall out of the window.
	l.keys["user:c"] = &signinTrack{fails: []time.Time{time.Now().Add(-20 * time.Minute), time.Now().Add(-19 * time.Minute),
		time.Now().Add(-18 * time.Minute), time.Now().Add(-17 * time.Minute)}}
	l.fail("user:c")
	if !l.lockedUntil("user:c").IsZero() {
		t.Fatal("failures older than the window counted")
	}
}

func TestSafeSnippet(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain &amp; text", "plain &amp; text"},
		{"a <mark>telecare</mark> pilot", "a <mark>telecare</mark> pilot"},
		{"<mark>a</mark> and <mark>b</mark>", "<mark>a</mark> and <mark>b</mark>"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<mark><mark>x</mark></mark>", "x"},
		{"<mark>open", "open"},
		{"x</mark>", "x"},
		{`<mark onclick="x">y</mark>`, "&lt;mark onclick=&#34;x&#34;&gt;y"},
	} {
		if got := safeSnippet(c.in); got != template.HTML(c.want) {
			t.Errorf("safeSnippet(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarkRedactions(t *testing.T) {
	got := markRedactions("Ask [person] at [email] <b>now</b>; fewer than 5 came.", map[string]string{"[person]": "name", "[email]": "e-mail", "fewer than 5": "count"})
	want := `Ask <mark class="redaction" title="name">[person]</mark> at ` +
		`<mark class="redaction" title="e-mail">[email]</mark> &lt;b&gt;now&lt;/b&gt;; ` +
		`<mark class="redaction" title="count">fewer than 5</mark> came.`
	if string(got) != want {
		t.Errorf("markRedactions:\n got %s\nwant %s", got, want)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/search?q=x": "/search?q=x", "//evil.example/": "/",
		"https://evil.example/": "/", "/\\evil": "/", "search": "/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
