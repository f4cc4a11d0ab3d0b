// SPDX-License-Identifier: EUPL-1.2

package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livinglab/livinglab/knowledge/search"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseSearchQuery reads /api/v1/search's query parameters.
func parseSearchQuery(r *http.Request) (search.Query, bool, error) {
	v := r.URL.Query()
	q := search.Query{Text: v.Get("q"), Topics: splitList(v.Get("topic")), Regions: splitList(v.Get("region")),
		Countries: splitList(v.Get("country")), Languages: splitList(v.Get("lang")), Kind: v.Get("kind"),
		Sort: v.Get("sort"), Facets: v.Get("facets") != "false", Reader: v.Get("reader"), Adapted: v.Get("adapted") == "true"}
	if a := v.Get("adapted"); a != "" && a != "true" && a != "false" {
		return q, false, fmt.Errorf("%w: adapted must be true or false, got %q", node.ErrBadRequest, a)
	}
	if q.Reader == "" {
		q.Reader = acceptLanguage(r.Header.Get("Accept-Language"))
	}
	ints := func(name string) ([]int, error) {
		var out []int
		for _, s := range splitList(v.Get(name)) {
			i, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("%w: %s must be a number, got %q", node.ErrBadRequest, name, s)
			}
			out = append(out, i)
		}
		return out, nil
	}
	var err error
	if q.Stages, err = ints("stage"); err != nil {
		return q, false, err
	}
	if q.Years, err = ints("year"); err != nil {
		return q, false, err
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &q.Page}, {"page_size", &q.PageSize}} {
		if s := v.Get(p.name); s != "" {
			i, err := strconv.Atoi(s)
			if err != nil {
				return q, false, fmt.Errorf("%w: %s must be a number, got %q", node.ErrBadRequest, p.name, s)
			}
			*p.dst = i
		}
	}
	for k := range v {
		switch k {
		case "q", "topic", "region", "country", "lang", "kind", "sort", "facets", "stage", "year", "page", "page_size", "network", "reader", "adapted":
		default:
			return q, false, fmt.Errorf("%w: unknown search parameter %q", node.ErrBadRequest, k)
		}
	}
	return q, v.Get("network") == "true", nil
}

// acceptLanguage returns the first language of an Accept-Language header
// that search knows, or "".
func acceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if c, err := search.ValidLanguage(tag); err == nil {
			return c
		}
	}
	return ""
}

func (s *server) search(w http.ResponseWriter, r *http.Request) {
	q, nw, err := parseSearchQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.svc.Search(r.Context(), q, nw)
	answer(w, http.StatusOK, res, err)
}

func (s *server) backup(w http.ResponseWriter, r *http.Request) {
	since := uint64(0)
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad_request", "since must be a backup version number")
			return
		}
		since = n
	}
	w.Header().Set("Content-Type", "application/x-tar")
	m, err := s.svc.WriteBackup(w, since)
	if err != nil {
		s.svc.Logger().Error("backup failed", "err", err)
		return
	}
	s.svc.Logger().Info("backup written", "since", m.Since, "until", m.Until)
}

func (s *server) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		writeErr(w, http.StatusBadRequest, "bad_request", "format must be json or csv")
		return
	}
	topic := q.Get("topic")
	if topic != "" {
		if err := protocol.ValidTopic(topic); err != nil {
			writeError(w, fmt.Errorf("%w: %v", node.ErrBadRequest, err))
			return
		}
	}
	views, err := s.svc.Practices(node.PracticeQuery{Topic: topic, Oldest: true})
	if err != nil {
		writeError(w, err)
		return
	}
	if format == "json" {
		writeJSON(w, http.StatusOK, views)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write([]string{"cid", "practice_id", "version", "title", "summary", "problem", "approach", "results", "resources",
		"difficulties", "lessons", "transferability", "stakeholder_roles", "topics", "language", "region", "country",
		"period", "licence", "author", "created"})
	for _, v := range views {
		cw.Write([]string{v.CID, v.PracticeID, strconv.Itoa(v.Version), v.Title, v.Summary, v.Problem, v.Approach, v.Results,
			v.Resources, v.Difficulties, strings.Join(v.Lessons, " | "), v.Transferability, strings.Join(v.StakeholderRoles, " | "),
			strings.Join(v.Topics, " "), v.Language, v.Region, v.Country, v.Period, v.Licence, v.Author, v.Created.Format(time.RFC3339)})
	}
	cw.Flush()
}
