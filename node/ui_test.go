// SPDX-License-Identifier: EUPL-1.2

// Long file: the web UI's security and page tests (anonymous requests, Host, CSRF, sign-in lockout,
// feeds, pages, drafts) share one signed-in test browser built here.

package node

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/livinglab/livinglab/internal/testkit"
	"github.com/livinglab/livinglab/knowledge"
)

// uiNode is a node serving its API and web UI on loopback.
type uiNode struct {
	t     *testing.T
	n     *Node
	home  Home
	base  string // http://127.0.0.1:PORT
	token string
	log   *testkit.Buffer
}

const (
	uiTestUser     = "aino"
	uiTestPassword = "kantele-2024"
)

// startUINode initialises a home, adds the test account and serves the node
// on loopback until the test ends.
func startUINode(t *testing.T, region, country, federation string) *uiNode {
	t.Helper()
	knowledge.BcryptCost = bcrypt.MinCost
	dir := t.TempDir()
	if _, err := Init(dir, InitOptions{Region: region, Country: country, Federation: federation}); err != nil {
		t.Fatal(err)
	}
	un := &uiNode{t: t, home: Home{Dir: dir}, log: &testkit.Buffer{}}
	var addr string
	un.n, addr = startLoopback(t, un.home, region, slog.LevelInfo, true, un.log)
	if err := un.n.store.AddUser(uiTestUser, uiTestPassword); err != nil {
		t.Fatal(err)
	}
	un.token, _ = un.home.LoadToken()
	un.base = "http://" + addr
	return un
}

// send makes a request to the node's API with the token and the header
// fields hdr (name, then value) and returns the answer.
func (un *uiNode) send(method, path string, body io.Reader, hdr ...string) (int, []byte, http.Header) {
	un.t.Helper()
	req, _ := http.NewRequest(method, un.base+path, body)
	req.Header.Set("Authorization", "Bearer "+un.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		un.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// apiDo calls the node's API with the token.
func (un *uiNode) apiDo(method, path string, in, out any) int {
	un.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	var hdr []string
	if body != nil {
		hdr = []string{"Content-Type", "application/json"}
	}
	status, b, _ := un.send(method, path, body, hdr...)
	if out != nil && status < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			un.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if status >= 300 {
		un.t.Logf("%s %s: %d %s", method, path, status, b)
	}
	return status
}

// testBrowser is a cookie-keeping HTTP client that does not follow
// redirects, like a browser seen one request at a time.
type testBrowser struct {
	t    *testing.T
	c    *http.Client
	base string
	lang string // the Accept-Language header, if any
}

func newTestBrowser(t *testing.T, base string) *testBrowser { return newTestBrowserFrom(t, base, "") }

// newTestBrowserFrom connects from the given loopback address (any of
// 127.0.0.0/8 works on Linux), so tests can act as several clients.
func newTestBrowserFrom(t *testing.T, base, ip string) *testBrowser {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	if ip != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
		tr.DialContext = d.DialContext
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &testBrowser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *testBrowser) do(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *testBrowser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	code, body, _ := b.do(req)
	return code, body
}

func (b *testBrowser) post(path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in page: %s", testkit.Tail(page, 20))
	}
	return m[1]
}

// signIn signs in and returns the session's CSRF token.
func (b *testBrowser) signIn(user, pw string) (int, string) {
	b.t.Helper()
	code, page := b.get("/")
	if code != http.StatusOK {
		b.t.Fatalf("GET / = %d", code)
	}
	code, body, _ := b.post("/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {user}, "password": {pw}})
	if code != http.StatusSeeOther {
		return code, body
	}
	_, page = b.get("/")
	return code, csrfOf(b.t, page)
}

func TestUIAnonymousRequestsAreRefused(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	b := newTestBrowser(t, un.base)
	code, page := b.get("/")
	if code != http.StatusOK || !strings.Contains(page, "<form") || !strings.Contains(page, `type="password"`) {
		t.Fatalf("GET / without a session = %d, want 200 with the sign-in form", code)
	}
	for _, p := range []string{"/api/v1/practices", "/api/v1/status", "/api/v1/lab/initiatives", "/api/v1/users"} {
		if code, _ := b.get(p); code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials = %d, want 401", p, code)
		}
	}
	for _, p := range []string{"/search?q=x", "/feed", "/federation", "/lab", "/practices"} {
		code, _ := b.get(p)
		if code != http.StatusSeeOther {
			t.Errorf("GET %s without a session = %d, want a redirect to the sign-in form", p, code)
		}
	}
	if code, _ := b.get("/ui/feed/events"); code != http.StatusSeeOther && code != http.StatusUnauthorized {
		t.Errorf("live feed without a session = %d", code)
	}
	if code, _ := b.get("/feeds/elderly-care.atom"); code != http.StatusUnauthorized {
		t.Errorf("Atom feed without token or session = %d, want 401", code)
	}
	if code, _, _ := b.post("/topics", url.Values{"topic": {"transport"}, "action": {"subscribe"}}); code != http.StatusForbidden {
		t.Errorf("POST /topics without a session = %d, want 403", code)
	}
	if code, _ := b.get("/static/style.css"); code != http.StatusOK {
		t.Errorf("stylesheet = %d", code)
	}
}

func TestUIForeignHostIsRefused(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	for _, p := range []string{"/", "/api/v1/health", "/search"} {
		req, _ := http.NewRequest("GET", un.base+p, nil)
		req.Host = "evil.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with Host evil.example = %d, want 403 or 421", p, resp.StatusCode)
		}
	}
}

func TestUICSRF(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	b := newTestBrowser(t, un.base)
	// The sign-in form carries its own token.
	if code, _, _ := b.post("/signin", url.Values{"username": {uiTestUser}, "password": {uiTestPassword}}); code != http.StatusForbidden {
		t.Fatalf("sign-in without the form's token = %d, want 403", code)
	}
	code, tok := b.signIn(uiTestUser, uiTestPassword)
	if code != http.StatusSeeOther {
		t.Fatalf("sign-in = %d: %s", code, tok)
	}
	form := url.Values{"topic": {"transport"}, "action": {"subscribe"}}
	if code, _, _ := b.post("/topics", form); code != http.StatusForbidden {
		t.Errorf("POST /topics without a CSRF token = %d, want 403", code)
	}
	form.Set("csrf", "forged-"+tok[:10])
	if code, _, _ := b.post("/topics", form); code != http.StatusForbidden {
		t.Errorf("POST /topics with a wrong CSRF token = %d, want 403", code)
	}
	if code, _, _ := b.post("/federation/invite", url.Values{}); code != http.StatusForbidden {
		t.Errorf("POST /federation/invite without a CSRF token = %d, want 403", code)
	}
	if code, _, _ := b.post("/signout", url.Values{}); code != http.StatusForbidden {
		t.Errorf("POST /signout without a CSRF token = %d, want 403", code)
	}
	form.Set("csrf", tok)
	code, _, h := b.post("/topics", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/topics") {
		t.Fatalf("POST /topics with the token = %d %s", code, h.Get("Location"))
	}
	if !strings.Contains(strings.Join(un.n.Config().Topics, ","), "transport") {
		t.Fatal("subscription not saved")
	}
	// The session opens the API for reading; changing state needs the token in a header.
	if code, _ := b.get("/api/v1/topics"); code != http.StatusOK {
		t.Errorf("GET /api/v1/topics with a session = %d", code)
	}
	req, _ := http.NewRequest("PUT", un.base+"/api/v1/topics/youth", nil)
	if code, _, _ := b.do(req); code != http.StatusUnauthorized {
		t.Errorf("PUT /api/v1/topics/youth with a session but no X-CSRF-Token = %d, want 401", code)
	}
	req, _ = http.NewRequest("PUT", un.base+"/api/v1/topics/youth", nil)
	req.Header.Set("X-CSRF-Token", tok)
	if code, _, _ := b.do(req); code != http.StatusOK {
		t.Errorf("PUT /api/v1/topics/youth with session and X-CSRF-Token = %d", code)
	}
	// Cookies are HttpOnly and SameSite=Strict.
	req, _ = http.NewRequest("GET", un.base+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Header.Values("Set-Cookie") {
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
			t.Errorf("cookie %q is not HttpOnly and SameSite=Strict", c)
		}
	}
	// Signing out ends the session on the server.
	if code, _, _ := b.post("/signout", url.Values{"csrf": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out = %d", code)
	}
	if code, _ := b.get("/api/v1/topics"); code != http.StatusUnauthorized {
		t.Errorf("API after sign-out = %d, want 401", code)
	}
}

// signinMaxFails is node/web's number of failed sign-ins that lock a user
// name or an address.
const signinMaxFails = 5

func TestUISignInAndLockout(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	if err := un.n.store.AddUser("sven", "fjallrav-99"); err != nil {
		t.Fatal(err)
	}
	from := func(ip string) *testBrowser { return newTestBrowserFrom(t, un.base, ip) }
	b := from("127.0.0.1")
	if code, _ := b.signIn(uiTestUser, "wrong-password"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password = %d, want 401", code)
	}
	if code, _ := b.signIn("nobody", uiTestPassword); code != http.StatusUnauthorized {
		t.Fatalf("unknown user = %d, want 401", code)
	}
	if code, _ := b.signIn(uiTestUser, uiTestPassword); code != http.StatusSeeOther {
		t.Fatalf("right password = %d", code)
	}
	if code, page := b.get("/"); code != http.StatusOK || !strings.Contains(page, "Welcome, "+uiTestUser) {
		t.Fatalf("home page after sign-in = %d", code)
	}
	// Five failures for one user name, from five addresses, lock the name
	// even for the right password, and only that name.
	for i := 0; i < signinMaxFails; i++ {
		if code, _ := from(fmt.Sprintf("127.0.0.%d", 10+i)).signIn("sven", "not-it"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, code)
		}
	}
	code, body := from("127.0.0.20").signIn("sven", "fjallrav-99")
	if code != http.StatusTooManyRequests {
		t.Fatalf("sign-in after %d failures = %d, want 429", signinMaxFails, code)
	}
	if !strings.Contains(body, "Too many failed sign-ins") {
		t.Error("the 429 page does not say why")
	}
	if code, _ := from("127.0.0.21").signIn(uiTestUser, uiTestPassword); code != http.StatusSeeOther {
		t.Errorf("another account while one name is locked = %d, want a sign-in", code)
	}
	// Five failures from one address lock the address, for every name.
	c := from("127.0.0.30")
	for i := 0; i < signinMaxFails; i++ {
		if code, _ := c.signIn(fmt.Sprintf("guess%d", i), "password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, code)
		}
	}
	if code, _ := c.signIn(uiTestUser, uiTestPassword); code != http.StatusTooManyRequests {
		t.Errorf("right password from the locked address = %d, want 429", code)
	}
	// The session signed in before still works.
	if code, _ := b.get("/search"); code != http.StatusOK {
		t.Errorf("existing session after the lockouts = %d", code)
	}
}

// publishTestPractice publishes a practice through the API.
func publishTestPractice(t *testing.T, un *uiNode, title, topic, lang string) string {
	t.Helper()
	in := map[string]any{"title": title, "summary": "Volunteers and nurses co-designed night-time telecare with residents of remote villages.",
		"problem": "Older people in remote villages had no help at night.", "approach": "Workshops with residents, a pilot with volunteers.",
		"results": "Fewer emergency visits.", "lessons": []string{"Start with the residents' own routines."},
		"topics": []string{topic}, "language": lang}
	var out struct {
		CID string `json:"cid"`
	}
	if code := un.apiDo("POST", "/api/v1/practices", in, &out); code != http.StatusCreated {
		t.Fatalf("publish = %d", code)
	}
	return out.CID
}

func TestUIAtomFeed(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	if err := un.n.Subscribe(context.Background(), "elderly-care"); err != nil {
		t.Fatal(err)
	}
	c1 := publishTestPractice(t, un, "Night-time telecare with village volunteers", "elderly-care", "en")
	c2 := publishTestPractice(t, un, "Yöpäivystys & kylien vapaaehtoiset <testi>", "elderly-care", "fi")
	fetch := func(q string, b *testBrowser) (int, string, string) {
		req, _ := http.NewRequest("GET", un.base+"/feeds/elderly-care.atom"+q, nil)
		if b == nil {
			b = newTestBrowser(t, un.base)
		}
		code, body, h := b.do(req)
		return code, body, h.Get("Content-Type")
	}
	if code, _, _ := fetch("?token=wrong", nil); code != http.StatusUnauthorized {
		t.Errorf("feed with a wrong token = %d, want 401", code)
	}
	for name, q := range map[string]string{"feed token": "?token=" + FeedToken(un.token), "API token": "?token=" + un.token} {
		code, body, ctype := fetch(q, nil)
		if code != http.StatusOK || !strings.HasPrefix(ctype, "application/atom+xml") {
			t.Fatalf("feed with the %s = %d %s", name, code, ctype)
		}
		var f struct {
			XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
			ID      string   `xml:"id"`
			Title   string   `xml:"title"`
			Updated string   `xml:"updated"`
			Author  struct {
				Name string `xml:"name"`
			} `xml:"author"`
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Entries []struct {
				ID      string `xml:"id"`
				Title   string `xml:"title"`
				Updated string `xml:"updated"`
				Summary string `xml:"summary"`
				Link    struct {
					Href string `xml:"href,attr"`
				} `xml:"link"`
			} `xml:"entry"`
		}
		dec := xml.NewDecoder(strings.NewReader(body))
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("feed is not XML: %v\n%s", err, body)
		}
		if f.ID == "" || f.Title == "" || f.Author.Name != "North Karelia" {
			t.Errorf("feed head incomplete: %+v", f)
		}
		if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
			t.Errorf("feed updated %q: %v", f.Updated, err)
		}
		if len(f.Entries) != 2 {
			t.Fatalf("feed has %d entries, want 2", len(f.Entries))
		}
		ids := f.Entries[0].ID + " " + f.Entries[1].ID
		if !strings.Contains(ids, c1) || !strings.Contains(ids, c2) {
			t.Errorf("entry IDs %s do not name the records", ids)
		}
		for _, e := range f.Entries {
			if e.Title == "" || e.Summary == "" || !strings.HasPrefix(e.Link.Href, un.base+"/practices/") {
				t.Errorf("entry incomplete: %+v", e)
			}
			if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
				t.Errorf("entry updated %q: %v", e.Updated, err)
			}
		}
		if !strings.Contains(body, "&amp; kylien vapaaehtoiset &lt;testi&gt;") {
			t.Error("markup in a title is not escaped in the feed")
		}
		for _, l := range f.Links {
			if strings.Contains(l.Href, "token=") {
				t.Errorf("the feed leaks its token in link %s", l.Href)
			}
		}
	}
	// A signed-in browser reads the feed without a token.
	b := newTestBrowser(t, un.base)
	b.signIn(uiTestUser, uiTestPassword)
	if code, _, _ := fetch("", b); code != http.StatusOK {
		t.Errorf("feed with a session = %d", code)
	}
	if code, _, _ := fetch("", nil); code != http.StatusUnauthorized {
		t.Errorf("feed without token or session = %d", code)
	}
	if code, _ := b.get("/feeds/Not_A_Topic.atom"); code != http.StatusNotFound {
		t.Errorf("feed of an invalid topic = %d, want 404", code)
	}
}

func TestUIPages(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	ctx := context.Background()
	un.n.Subscribe(ctx, "elderly-care")
	cid := publishTestPractice(t, un, "Night-time telecare with village volunteers", "elderly-care", "en")
	b := newTestBrowser(t, un.base)
	_, tok := b.signIn(uiTestUser, uiTestPassword)
	for _, p := range []string{"/", "/search", "/feed", "/practices", "/topics", "/federation", "/account", "/publish", "/lab", "/drafts"} {
		if code, page := b.get(p); code != http.StatusOK || !strings.Contains(page, "</html>") {
			t.Errorf("GET %s = %d", p, code)
		}
	}
	for i := 0; i < 11; i++ {
		publishTestPractice(t, un, fmt.Sprintf("Telecare pilot %d in the villages", i+1), "elderly-care", "en")
	}
	code, page := b.get("/search?q=telecare&sort=date")
	if code != http.StatusOK || !strings.Contains(page, "1–10 of 12 results") || !strings.Contains(page, `rel="next"`) {
		t.Errorf("first result page = %d, want 10 of 12 results and a next link", code)
	}
	code, page = b.get("/search?q=telecare&sort=date&page=2")
	if code != http.StatusOK || !strings.Contains(page, "11–12 of 12 results") || !strings.Contains(page, `rel="prev"`) {
		t.Errorf("second result page = %d, want results 11-12 and a previous link", code)
	}
	code, page = b.get("/search?q=telecare+volunteers&topic=elderly-care")
	if code != http.StatusOK || !strings.Contains(page, "<mark>") || !strings.Contains(page, `name="topic" value="elderly-care" checked`) {
		t.Errorf("search page = %d, want highlighted results and the checked facet", code)
	}
	if !strings.Contains(page, "/practices/"+cid) {
		t.Error("search does not link the practice")
	}
	code, page = b.get("/practices/" + cid)
	if code != http.StatusOK || !strings.Contains(page, "signature verified") || !strings.Contains(page, cid) ||
		!strings.Contains(page, "Version history") || !strings.Contains(page, `action="/practices/`+cid+`/retract"`) {
		t.Fatalf("practice page = %d, want provenance and the retract form", code)
	}
	if code, _, _ := b.post("/practices/"+cid+"/retract", url.Values{"csrf": {tok}, "reason": {""}}); code != http.StatusBadRequest {
		t.Errorf("retraction without a reason = %d, want 400", code)
	}
	// Retracting asks first, saying what happens on the other nodes.
	code, page, _ = b.post("/practices/"+cid+"/retract", url.Values{"csrf": {tok}, "reason": {"Published by mistake."}})
	if code != http.StatusOK || !strings.Contains(page, "Retract this practice everywhere?") || !strings.Contains(page, "Every member node deletes") {
		t.Fatalf("retract without confirmation = %d, want the question", code)
	}
	if _, err := un.n.Record(mustCID(t, cid)); err != nil {
		t.Fatalf("the practice is gone before the confirmation: %v", err)
	}
	code, _, h := b.post("/practices/"+cid+"/retract", url.Values{"csrf": {tok}, "reason": {"Published by mistake."}, "confirm": {"yes"}})
	if code != http.StatusSeeOther {
		t.Fatalf("retract = %d", code)
	}
	code, page = b.get(h.Get("Location"))
	if code != http.StatusGone || !strings.Contains(page, "Published by mistake.") {
		t.Errorf("retracted practice page = %d", code)
	}
	// Publishing through the form: preview, then approve exactly that.
	form := url.Values{"csrf": {tok}, "title": {"Demand-responsive transport for villages"}, "summary": {"Call-and-ride minibuses replaced empty scheduled routes."},
		"topic": {"elderly-care"}, "language": {"en"}, "approach": {"Contact aino.mattila@example.fi for the timetable."}, "action": {"preview"},
		"tr_lang": {"fi", ""}, "tr_title": {"Kutsuliikenne kyliin", ""}, "tr_summary": {"Kutsupikkubussit korvasivat tyhjät vuorot.", ""}}
	code, page, _ = b.post("/publish", form)
	if code != http.StatusOK || !strings.Contains(page, "exactly what would leave") || !strings.Contains(page, "Kutsuliikenne kyliin") {
		t.Fatalf("preview = %d, want the preview with the translation", code)
	}
	if strings.Contains(page, "<dd class=\"text\">Contact aino.mattila@example.fi") || !strings.Contains(page, "e-mail address removed by the anonymisation gate") {
		t.Error("the preview does not show the e-mail address redacted")
	}
	m := hashRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the preview has no approval form with its fingerprint")
	}
	// No one-click publishing: without the preview's fingerprint, or with
	// a text changed since, the answer is a new preview.
	form.Set("action", "publish")
	if code, page, _ = b.post("/publish", form); code != http.StatusConflict || !strings.Contains(page, "no longer what you previewed") {
		t.Errorf("publish without a preview = %d, want 409 and a new preview", code)
	}
	form.Set("hash", m[1])
	form.Set("summary", "Something else than what was previewed.")
	if code, _, _ = b.post("/publish", form); code != http.StatusConflict {
		t.Errorf("publish of a changed text = %d, want 409", code)
	}
	form.Set("summary", "Call-and-ride minibuses replaced empty scheduled routes.")
	code, _, h = b.post("/publish", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/practices/") {
		t.Fatalf("publish = %d %s", code, h.Get("Location"))
	}
	pub, err := un.n.Record(mustCID(t, strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/practices/"), "?done=published")))
	if err != nil {
		t.Fatal(err)
	}
	if pv, _ := un.n.ViewPractice(pub); pv == nil || pv.Translations["fi"].Title != "Kutsuliikenne kyliin" {
		t.Errorf("the published practice lacks its Finnish translation: %+v", pv)
	}
	// Invites are shown once created.
	code, page, _ = b.post("/federation/invite", url.Values{"csrf": {tok}})
	if code != http.StatusOK || !strings.Contains(page, "invite-token") {
		t.Errorf("invite = %d", code)
	}
	if code, _ := b.get("/no/such/page"); code != http.StatusNotFound {
		t.Errorf("unknown page = %d", code)
	}
}

func TestUIUsersAPI(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	if code := un.apiDo("POST", "/api/v1/users", map[string]string{"name": "sven", "password": "fjallrav-99"}, nil); code != http.StatusCreated {
		t.Fatalf("add = %d", code)
	}
	if code := un.apiDo("POST", "/api/v1/users", map[string]string{"name": "sven", "password": "fjallrav-99"}, nil); code != http.StatusConflict {
		t.Errorf("add twice = %d, want 409", code)
	}
	if code := un.apiDo("POST", "/api/v1/users", map[string]string{"name": "Bad Name", "password": "fjallrav-99"}, nil); code != http.StatusBadRequest {
		t.Errorf("add a bad name = %d, want 400", code)
	}
	var us []UserView
	if code := un.apiDo("GET", "/api/v1/users", nil, &us); code != http.StatusOK || len(us) != 2 {
		t.Fatalf("list = %d %+v", code, us)
	}
	b := newTestBrowser(t, un.base)
	if code, _ := b.signIn("sven", "fjallrav-99"); code != http.StatusSeeOther {
		t.Fatalf("new account cannot sign in: %d", code)
	}
	// A session does not manage accounts.
	if code, _ := b.get("/api/v1/users"); code != http.StatusUnauthorized {
		t.Errorf("accounts API with a session = %d, want 401", code)
	}
	if code := un.apiDo("PUT", "/api/v1/users/sven/password", map[string]string{"password": "uusi-salasana"}, nil); code != http.StatusOK {
		t.Fatalf("set password = %d", code)
	}
	if code, _ := b.get("/search"); code != http.StatusSeeOther {
		t.Errorf("session after a password change = %d, want it ended", code)
	}
	if code := un.apiDo("DELETE", "/api/v1/users/sven", nil, nil); code != http.StatusOK {
		t.Fatalf("remove = %d", code)
	}
	if code := un.apiDo("DELETE", "/api/v1/users/sven", nil, nil); code != http.StatusNotFound {
		t.Errorf("remove twice = %d, want 404", code)
	}
}

var hashRE = regexp.MustCompile(`name="hash" value="([0-9a-f]+)"`)

// sectionOf returns the HTML of the section with the given id.
func sectionOf(page, id string) string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], "</section>")
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j]
}

// TestUIDraftReview drives the publishing pages without a browser: edit a
// draft, decide on an uncertain name, approve exactly the preview, publish.
func TestUIDraftReview(t *testing.T) {
	un := startUINode(t, "North Karelia", "FI", "improve")
	var ini struct {
		ID string `json:"id"`
	}
	if code := un.apiDo("POST", "/api/v1/lab/initiatives", map[string]any{"title": "Night-time telecare",
		"description": "Nurses and volunteers answer night-time alarms.", "topics": []string{"elderly-care"}, "language": "en"}, &ini); code != http.StatusCreated {
		t.Fatalf("create initiative = %d", code)
	}
	b := newTestBrowser(t, un.base)
	_, tok := b.signIn(uiTestUser, uiTestPassword)
	code, _, h := b.post("/lab/initiatives/"+ini.ID+"/draft", url.Values{"csrf": {tok}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/drafts/drf-") {
		t.Fatalf("create draft = %d %s", code, h.Get("Location"))
	}
	draft := h.Get("Location")
	code, _, h = b.post(draft, url.Values{"csrf": {tok}, "title": {"Night-time telecare with village volunteers"},
		"summary": {"Nurses and volunteers answer night-time alarms together."}, "language": {"en"}, "topic": {"elderly-care"},
		"approach": {"The first workshop was led by Brannigan Oduya in the village hall."}})
	if code != http.StatusSeeOther {
		t.Fatalf("save draft = %d", code)
	}
	code, page := b.get(draft)
	if code != http.StatusOK || !strings.Contains(page, `name="keep" value="Brannigan Oduya"`) {
		t.Fatalf("draft page = %d, want a decision on the uncertain name", code)
	}
	if pv := sectionOf(page, "preview"); !strings.Contains(pv, `<mark class="redaction"`) || strings.Contains(pv, "Brannigan") {
		t.Errorf("the undecided name is not shown redacted in the preview: %s", pv)
	}
	// A wrong hash is refused: approval names exactly what was previewed.
	if code, _, _ := b.post(draft+"/approve", url.Values{"csrf": {tok}, "hash": {strings.Repeat("0", 64)}}); code != http.StatusConflict {
		t.Errorf("approve with a stale hash = %d, want 409", code)
	}
	// Keep the name (it is, say, a place), preview again, approve that.
	decision := url.Values{"csrf": {tok}, "name": {"Brannigan Oduya"}, "keep": {"Brannigan Oduya"}}
	code, page, _ = b.post(draft+"/preview", decision)
	if code != http.StatusOK || !strings.Contains(sectionOf(page, "preview"), "led by Brannigan Oduya in the") {
		t.Fatalf("preview with the name kept = %d", code)
	}
	m := hashRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no approval form with a hash")
	}
	decision.Set("hash", m[1])
	code, _, h = b.post(draft+"/approve", decision)
	if code != http.StatusSeeOther {
		t.Fatalf("approve = %d", code)
	}
	if code, page = b.get(draft); !strings.Contains(page, `id="publish-draft"`) {
		t.Fatalf("approved draft page = %d without the publish button", code)
	}
	code, _, h = b.post(draft+"/publish", url.Values{"csrf": {tok}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/practices/") {
		t.Fatalf("publish = %d %s", code, h.Get("Location"))
	}
	if code, page = b.get(h.Get("Location")); code != http.StatusOK || !strings.Contains(page, "led by Brannigan Oduya in the village hall") {
		t.Errorf("published practice = %d, want the kept name", code)
	}
	// Publishing again without a new approval is refused.
	if code, _, _ := b.post(draft+"/publish", url.Values{"csrf": {tok}}); code != http.StatusConflict {
		t.Errorf("second publish without approval = %d, want 409", code)
	}
}

// TestUILanguages: the interface speaks the reader's language (the
// account's choice, else the browser's, else English), and lists show a
// practice in the reader's language when its author translated it, with
// the original beside it.
func TestUILanguages(t *testing.T) {
	un := startUINode(t, "Donegal", "IE", "improve")
	ctx := context.Background()
	if err := un.n.Subscribe(ctx, "elderly-care"); err != nil {
		t.Fatal(err)
	}
	var out struct {
		CID string `json:"cid"`
	}
	if code := un.apiDo("POST", "/api/v1/practices", map[string]any{"title": "Yöpäivystys kylissä", "summary": "Hoitajat ja vapaaehtoiset vastaavat yön hälytyksiin.",
		"approach": "Vapaaehtoiset käyvät kotona.", "topics": []string{"elderly-care"}, "language": "fi",
		"translations": map[string]any{"en": map[string]string{"title": "Night-time telecare in the villages", "summary": "Nurses and volunteers answer night alarms."}}}, &out); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("publish = %d", code)
	}
	for _, c := range []struct{ accept, want, title, original string }{
		{"fi-FI,fi;q=0.9", `<html lang="fi">`, "Yöpäivystys kylissä", ""},
		{"ga-IE,ga;q=0.9", `<html lang="ga">`, "Night-time telecare in the villages", "Bunleagan (Fionlainnis):"},
		{"sv-SE", `<html lang="sv">`, "Night-time telecare in the villages", "Original (finska):"},
		{"xx-YY, *;q=0.1", `<html lang="en">`, "Night-time telecare in the villages", "Original (Finnish):"},
		{"this is not a header;;", `<html lang="en">`, "Night-time telecare in the villages", "Original (Finnish):"},
	} {
		b := newTestBrowser(t, un.base)
		b.lang = c.accept
		if code, page := b.get("/"); code != http.StatusOK || !strings.Contains(page, c.want) {
			t.Errorf("Accept-Language %q: sign-in page = %d, want %s", c.accept, code, c.want)
		}
		b.signIn(uiTestUser, uiTestPassword)
		code, page := b.get("/practices")
		if code != http.StatusOK || !strings.Contains(page, c.want) || !strings.Contains(page, ">"+c.title+"</a>") ||
			(c.original != "" && !strings.Contains(page, c.original)) {
			t.Errorf("Accept-Language %q: practices = %d, want %s, the title %q and %q", c.accept, code, c.want, c.title, c.original)
		}
	}
	// The switcher: the account's choice wins over the browser's language
	// and follows the account to another browser.
	b := newTestBrowser(t, un.base)
	b.lang = "en-GB"
	_, tok := b.signIn(uiTestUser, uiTestPassword)
	if code, _, h := b.post("/language", url.Values{"csrf": {tok}, "lang": {"nn"}, "next": {"/topics"}}); code != http.StatusSeeOther || h.Get("Location") != "/topics" {
		t.Fatalf("switch language = %d %s", code, h.Get("Location"))
	}
	if _, page := b.get("/topics"); !strings.Contains(page, `<html lang="nn">`) || !strings.Contains(page, "Eldreomsorg") {
		t.Error("after choosing Nynorsk the topics page is not in Nynorsk")
	}
	other := newTestBrowser(t, un.base)
	other.lang = "da"
	other.signIn(uiTestUser, uiTestPassword)
	if _, page := other.get("/"); !strings.Contains(page, `<html lang="nn">`) {
		t.Error("the account's language does not follow it to another browser")
	}
	if code, _, _ := b.post("/language", url.Values{"csrf": {tok}, "lang": {"tlh"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown language = %d, want 400", code)
	}
	// Dates and numbers in the language's format.
	if _, page := other.get("/practices"); !regexp.MustCompile(`\d\d\.\d\d\.20\d\d kl\. \d\d:\d\d`).MatchString(page) {
		t.Error("the Nynorsk practices page shows no date as dd.mm.yyyy kl. hh:mm")
	}
}
