// SPDX-License-Identifier: EUPL-1.2

// Package web serves the node's web UI: server-rendered HTML pages that
// work without JavaScript (a small script adds the live feed), their
// templates and static files, browser sessions with a per-session CSRF
// token, and the sign-in limiter.
//
// It is served on the API's address, inside node/api's handler, so the
// Host check and security headers apply. The lab and draft pages drive the
// node's own API in-process, so browsers and programs share one
// implementation of every rule. It uses the node only through the Service
// interface, which *node.Node implements; it may import node, knowledge
// (types) and protocol, never Badger, libp2p or the node's store.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

//go:embed templates/*.html static/*
var webFS embed.FS

// Service is the node as the web UI uses it; *node.Node implements it.
type Service interface {
	Identity() node.Identity
	Config() node.Config
	Logger() *slog.Logger
	APIToken() (string, error)
	HomeDir() string
	Status() node.Status
	Addrs() []string
	Events(buf int) (<-chan node.Event, func())
	Serving() <-chan struct{}

	Members(all bool) []node.MemberView
	Member(id string) (node.Member, bool)
	IsAdmin() bool
	ConnectedPeers() []node.PeerView
	Invite() (string, time.Time, error)
	Subscribe(ctx context.Context, topic string) error
	Unsubscribe(topic string) error

	Practices(q node.PracticeQuery) ([]*node.PracticeView, error)
	Record(c cid.Cid) (*protocol.Signed, error)
	Tombstone(c cid.Cid) (*knowledge.Tombstone, error)
	History(c cid.Cid) ([]*node.PracticeView, error)
	ViewPractice(rec *protocol.Signed) (*node.PracticeView, error)
	PublishPractice(ctx context.Context, in node.PracticeInput, rv node.Review, dryRun bool) (*node.Published, error)
	Retract(ctx context.Context, c cid.Cid, reason string) (*protocol.Signed, error)
	Search(ctx context.Context, q search.Query, networkWide bool) (*node.SearchResult, error)
	Stages() ([]knowledge.Stage, error)
	Adaptations(c cid.Cid) (*node.Adaptations, error)
	Transfers() (*node.TransferMap, error)
	SchemaOrg(v *node.PracticeView, pageURL string) map[string]any

	Users() ([]node.UserView, error)
	UserRole(name string) (string, error)
	CheckPassword(name, password string) error
	TouchUser(name string) error
	SetPassword(name, password string) error
}

// webUI is the state of one node's web UI: templates, sessions and the
// sign-in limiter.
type webUI struct {
	n         Service
	self      string // the node's peer ID
	log       *slog.Logger
	pages     map[string]*pageSet // language -> its page templates
	prefs     prefStore
	static    http.Handler
	api       http.Handler // the node's API routes, for in-process calls
	token     string       // the API token
	feedToken string       // read-only token for Atom feeds, derived from the API token
	cookie    string       // session cookie name, unique per node (cookies ignore ports)
	preCookie string       // sign-in form CSRF cookie name

	mu       sync.Mutex
	sessions map[string]*session

	limiter signinLimiter

	demoUser, demoPassword string // the demo's fixed sign-in, shown on the sign-in page
}

// uiByNode maps a node to its web UI state, so that sessions outlive a
// rebuilt handler.
var uiByNode sync.Map // Service -> *webUI

// UI is a node's web UI as the HTTP API meets it (see api.UI).
type UI struct{ u *webUI }

// New returns the web UI of the node svc.
func New(svc Service) UI {
	token, _ := svc.APIToken()
	self := svc.Identity().PeerID
	suffix := self
	if len(suffix) > 10 {
		suffix = suffix[len(suffix)-10:]
	}
	fresh := &webUI{n: svc, self: self, log: svc.Logger(), sessions: map[string]*session{},
		cookie: "livinglab_session_" + suffix, preCookie: "livinglab_signin_" + suffix}
	fresh.prefs.file = prefFile(svc.HomeDir())
	v, _ := uiByNode.LoadOrStore(svc, fresh)
	u := v.(*webUI)
	u.mu.Lock()
	u.token, u.feedToken = token, node.FeedToken(token)
	u.mu.Unlock()
	return UI{u: u}
}

// WithDemoSignIn shows a fixed sign-in on the sign-in page. Only the demo
// uses it: its regions run on loopback with sample data.
func (ui UI) WithDemoSignIn(user, password string) UI {
	ui.u.mu.Lock()
	ui.u.demoUser, ui.u.demoPassword = user, password
	ui.u.mu.Unlock()
	return ui
}

// Mount adds the web UI's pages to mux, which must also serve the API: the
// lab pages call the API through it.
func (ui UI) Mount(mux *http.ServeMux) { ui.u.mount(mux) }

// SessionUser names the account of the request's signed-in session.
// Requests that change state must also carry the session's CSRF token in
// the X-CSRF-Token header.
func (ui UI) SessionUser(r *http.Request) (string, bool) {
	s := ui.u.session(r)
	if s == nil {
		return "", false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return s.User, true
	}
	return s.User, tokensEqual(r.Header.Get("X-CSRF-Token"), s.CSRF)
}

// EndSessions ends every session of a user.
func (ui UI) EndSessions(user string) { ui.u.endSessions(user, "") }

// mount adds the web UI's routes.
func (u *webUI) mount(mux *http.ServeMux) {
	if u.pages == nil {
		pages, err := u.newPageSets()
		if err != nil {
			u.log.Error("web UI templates", "err", err)
			return
		}
		u.pages = pages
		sub, _ := fs.Sub(webFS, "static")
		u.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	}

	if users, err := u.n.Users(); err == nil && len(users) == 0 {
		u.log.Info("the web UI has no accounts yet; add one with: livinglab users add NAME --home " + u.n.HomeDir())
	}
	mux.HandleFunc("GET /{$}", u.index)
	mux.HandleFunc("POST /signin", u.signIn)
	mux.HandleFunc("POST /signout", u.form(u.signOut))
	mux.HandleFunc("POST /language", u.setLanguage)
	mux.HandleFunc("GET /static/", u.serveStatic)
	mux.HandleFunc("GET /search", u.page(u.searchPage))
	mux.HandleFunc("GET /practices", u.page(u.practicesPage))
	mux.HandleFunc("GET /practices/{cid}", u.page(u.practicePage))
	mux.HandleFunc("GET /transfers", u.page(u.transfersPage))
	mux.HandleFunc("POST /practices/{cid}/retract", u.form(u.retractForm))
	mux.HandleFunc("GET /publish", u.page(u.publishPage))
	mux.HandleFunc("POST /publish", u.form(u.publishForm))
	mux.HandleFunc("GET /topics", u.page(u.topicsPage))
	mux.HandleFunc("POST /topics", u.form(u.topicsForm))
	mux.HandleFunc("GET /feed", u.page(u.feedPage))
	mux.HandleFunc("GET /ui/feed/events", u.page(u.feedEvents))
	mux.HandleFunc("GET /feeds/{file}", u.atomFeed)
	mux.HandleFunc("GET /federation", u.page(u.federationPage))
	mux.HandleFunc("POST /federation/invite", u.form(u.inviteForm))
	mux.HandleFunc("GET /account", u.page(u.accountPage))
	mux.HandleFunc("POST /account/password", u.form(u.passwordForm))
	u.mountLab(mux)
	mux.HandleFunc("/", u.notFound)
}

func (u *webUI) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	u.static.ServeHTTP(w, r)
}

// ---- templates ----

// uiFuncs are the template functions that do not depend on the language.
var uiFuncs = template.FuncMap{
	"short": func(s string) string {
		if len(s) <= 16 {
			return s
		}
		return s[:8] + "…" + s[len(s)-6:]
	},
	"join":     strings.Join,
	"contains": slices.Contains[[]string, string],
	"int":      func(n uint64) int { return int(min(n, 1<<31-1)) },
	"dict":     dict,
}

// dict makes a map of key, value pairs: a partial template takes one value,
// and this hands it several.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: %d arguments, want key, value pairs", len(kv))
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// pageSet is the page templates of one interface language, parsed at the
// first page in that language: eight languages of parsed templates held
// about 20 MB, where most nodes use one or two.
type pageSet struct {
	once  sync.Once
	pages map[string]*template.Template
	err   error
}

// newPageSets prepares the page sets of every interface language. It parses
// the English pages, the fallback, so that a broken template fails at
// start, and lets that parse go: a node nobody signs in to does not keep
// a few megabytes of templates; the first page in a language parses them.
func (u *webUI) newPageSets() (map[string]*pageSet, error) {
	if _, err := loadCatalogue(); err != nil {
		return nil, err
	}
	out := make(map[string]*pageSet, len(uiLangs))
	for _, lang := range uiLangs {
		out[lang] = &pageSet{}
	}
	if _, err := u.parsePages(uiLangs[0]); err != nil {
		return nil, err
	}
	return out, nil
}

// pagesIn returns the page templates of lang from sets, parsing them once.
func (u *webUI) pagesIn(sets map[string]*pageSet, lang string) (map[string]*template.Template, error) {
	ps, ok := sets[lang]
	if !ok {
		return nil, fmt.Errorf("no interface language %q", lang)
	}
	ps.once.Do(func() { ps.pages, ps.err = u.parsePages(lang) })
	return ps.pages, ps.err
}

// parsePages parses each page template together with the layout in the
// interface language lang.
func (u *webUI) parsePages(lang string) (map[string]*template.Template, error) {
	names, err := fs.Glob(webFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := u.translator(lang).funcs()
	out := map[string]*template.Template{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t, err := template.New(base).Funcs(uiFuncs).Funcs(funcs).ParseFS(webFS, "templates/layout.html", "templates/partials.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse %s (%s): %w", base, lang, err)
		}
		out[strings.TrimSuffix(base, ".html")] = t
	}
	return out, nil
}

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string // the highlighted navigation entry
	Region  string
	Country string
	Fed     string
	User    string
	CSRF    string
	Flash   string
	Error   string
	Data    any
	Lang    string // the interface language
	Path    string // the page's address, where the language switcher returns
}

func (u *webUI) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Lang = u.langOf(r)
	pages, err := u.pagesIn(u.pages, v.Lang)
	if err != nil {
		u.log.Error("web UI templates", "lang", v.Lang, "err", err)
		http.Error(w, "web UI templates: "+err.Error(), http.StatusInternalServerError)
		return
	}
	t, ok := pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	cfg := u.n.Config()
	v.Region, v.Country, v.Fed = cfg.Region, cfg.Country, cfg.Federation.Name
	if s := u.session(r); s != nil {
		v.User, v.CSRF = s.User, s.CSRF
	}
	if v.Flash == "" {
		v.Flash = u.flashText(v.Lang, r.URL.Query().Get("done"))
	}
	v.Path = r.URL.Path
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		v.Path = r.URL.RequestURI()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		u.log.Error("web UI render", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flashCodes are the ?done= codes of a redirect after a form.
var flashCodes = []string{"subscribed", "unsubscribed", "retracted", "password", "published", "saved", "deleted", "approved"}

// flashText turns a ?done= code into a message.
func (u *webUI) flashText(lang, code string) string {
	if !slices.Contains(flashCodes, code) {
		return ""
	}
	return u.translator(lang).T("flash." + code)
}

func (u *webUI) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tr := u.tr(r)
	title := tr.T("error.status_other", "Code", status)
	switch status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusGone,
		http.StatusTooManyRequests, http.StatusInternalServerError:
		title = tr.T("error.status_" + strconv.Itoa(status))
	}
	u.render(w, r, status, "error", view{Title: title, Error: msg})
}

func (u *webUI) notFound(w http.ResponseWriter, r *http.Request) {
	u.errorPage(w, r, http.StatusNotFound, u.tr(r).T("error.no_page", "Path", r.URL.Path))
}

// page wraps a handler that needs a signed-in session; without one the
// browser goes to the sign-in form.
func (u *webUI) page(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := u.session(r)
		if s == nil {
			if r.Header.Get("Accept") == "text/event-stream" {
				http.Error(w, u.tr(r).T("error.sign_in_first"), http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r, s)
	}
}

// form wraps a handler of a state-changing form: it needs a session and the
// session's CSRF token.
func (u *webUI) form(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, int64(max(u.n.Config().Limits.MaxRequestKB, 256))<<10)
		s := u.session(r)
		if s == nil {
			u.errorPage(w, r, http.StatusForbidden, u.tr(r).T("error.not_signed_in"))
			return
		}
		if err := r.ParseForm(); err != nil {
			u.errorPage(w, r, http.StatusBadRequest, u.tr(r).T("error.form_unreadable"))
			return
		}
		tok := r.PostForm.Get("csrf")
		if tok == "" {
			tok = r.Header.Get("X-CSRF-Token")
		}
		if !tokensEqual(tok, s.CSRF) {
			u.errorPage(w, r, http.StatusForbidden, u.tr(r).T("error.csrf"))
			return
		}
		h(w, r, s)
	}
}

// contentLanguages are offered for a practice's language and its
// translations: the interface languages, then others of the regions.
var contentLanguages = []string{"en", "fi", "sv", "nb", "nn", "da", "is", "ga", "no", "se", "de", "et"}

// suggestedTopics are offered in topic pickers; any slug works.
var suggestedTopics = []string{"elderly-care", "transport", "health", "housing", "digital-services", "youth",
	"culture", "energy", "planning", "participation"}

// stageNames returns the lab's stage names (stage 1 first), the
// methodology's defaults when the store holds none.
func (u *webUI) stageNames() []knowledge.Stage {
	if st, err := u.n.Stages(); err == nil && len(st) > 0 {
		return st
	}
	return knowledge.DefaultStages()
}
