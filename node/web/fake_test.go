// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// fakeNode is the service with what the sign-in and dashboard need; any
// other method panics (the nil embedded interface).
type fakeNode struct {
	Service
	touched []string
}

func (f *fakeNode) Identity() node.Identity {
	return node.Identity{PeerID: "12D3KooWFakeNodeForTheWebUI"}
}
func (f *fakeNode) Config() node.Config {
	c := node.DefaultConfig()
	c.Region = "North Karelia"
	c.Topics = []string{"elderly-care"}
	return c
}
func (f *fakeNode) Logger() *slog.Logger            { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (f *fakeNode) APIToken() (string, error)       { return "secret", nil }
func (f *fakeNode) HomeDir() string                 { return "/nonexistent" }
func (f *fakeNode) Status() node.Status             { return node.Status{Region: "North Karelia"} }
func (f *fakeNode) Addrs() []string                 { return nil }
func (f *fakeNode) Users() ([]node.UserView, error) { return []node.UserView{{Name: "aino"}}, nil }
func (f *fakeNode) TouchUser(name string) error     { f.touched = append(f.touched, name); return nil }
func (f *fakeNode) CheckPassword(name, pw string) error {
	if name == "aino" && pw == "kantele-2024" {
		return nil
	}
	return knowledge.ErrBadPassword
}
func (f *fakeNode) Adaptations(cid.Cid) (*node.Adaptations, error) { return &node.Adaptations{}, nil }
func (f *fakeNode) Transfers() (*node.TransferMap, error)          { return &node.TransferMap{}, nil }
func (f *fakeNode) SchemaOrg(v *node.PracticeView, url string) map[string]any {
	return map[string]any{"@type": "CreativeWork", "identifier": v.CID}
}
func (f *fakeNode) Practices(q node.PracticeQuery) ([]*node.PracticeView, error) {
	return []*node.PracticeView{{CID: "bafyfake", Author: "12D3KooWAnotherRegion", Topics: []string{"elderly-care"},
		Practice: protocol.Practice{Title: "Night-time telecare with village volunteers"}, Created: time.Now()}}, nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// The web UI signs a browser in against the service's accounts and shows
// the service's practices, with nothing but the Service interface behind it.
func TestSignInAndDashboardWithFakeNode(t *testing.T) {
	f := &fakeNode{}
	mux := http.NewServeMux()
	New(f).Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := srv.Client()
	c.Jar = newJar(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	get := func(path string) (int, string) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("/")
	m := csrfField.FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("sign-in form: %d, csrf field found: %v\n%s", code, m != nil, page)
	}
	signIn := func(pw string) int {
		resp, err := c.PostForm(srv.URL+"/signin", url.Values{"csrf": {m[1]}, "username": {"aino"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := signIn("wrong"); code != http.StatusUnauthorized || len(f.touched) != 0 {
		t.Fatalf("wrong password: %d, touched %v", code, f.touched)
	}
	if code, _ := get("/practices"); code != http.StatusSeeOther {
		t.Fatalf("a page before signing in: %d, want a redirect to the sign-in", code)
	}
	if code := signIn("kantele-2024"); code != http.StatusSeeOther || len(f.touched) != 1 {
		t.Fatalf("right password: %d, touched %v", code, f.touched)
	}
	code, page = get("/")
	if code != 200 || !strings.Contains(page, "Night-time telecare with village volunteers") {
		t.Fatalf("home page: %d, practice title shown: %v", code, strings.Contains(page, "Night-time telecare"))
	}
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	j, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (f *fakeNode) UserRole(name string) (string, error) {
	if name == "aino" {
		return "admin", nil
	}
	return "champion", nil
}
