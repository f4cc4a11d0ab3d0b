// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/mapping"
)

// Fields of the index besides the text fields.
const (
	fieldAll        = "all"   // cross-language text, all four text fields as an array
	fieldFacet      = "facet" // "name=value" terms for filters and facets
	fieldPracticeID = "practice_id"
	fieldKind       = "kind"
	fieldTopic      = "topic"
	fieldRegion     = "region"
	fieldCountry    = "country"
	fieldLanguage   = "language"
	fieldStage      = "stage"
	fieldYear       = "year"
	fieldCreated    = "created"
	fieldAdapted    = "adapted" // a filter only: practices that adapt others
	// fieldTranslations stores the record's translations as JSON, for hits.
	fieldTranslations = "translations"
)

// FacetNames lists the facets Search can count, in display order.
var FacetNames = []string{fieldTopic, fieldRegion, fieldCountry, fieldStage, fieldLanguage, fieldYear}

// facetTerm is the term of the facet field for one facet value.
func facetTerm(name, value string) string { return name + "=" + value }

// fieldType names the document type in the field map: the canonical code
// of the record's language, absent for languages without their own analysis.
const fieldType = "_type"

// newMapping builds the index mapping for SchemaVersion.
//
// Every language with its own analysis has a document type of its own, so
// the same fields hold every record, each analysed in its record's language:
//
//   - title, summary, lessons, body: the record's text, stored for hits and
//     snippets, and analysed with its language's analyzer (stop words,
//     lexicon lemmas and compound parts, stemmer, then ASCII folding). A
//     query word is looked up as its stem in each language searched: one
//     term per field and distinct stem, however many languages the index
//     holds. Records in a language without its own analysis store these
//     texts without indexing them and are found through "all". These
//     fields keep no term locations: they were about a sixth of the cost
//     of indexing a record, and only the page of hits shown needs them,
//     for snippets, which finds them by analysing its stored texts again
//     (textLocations).
//   - trtitle_xx, trsummary_xx: translations of the title and summary
//     into language xx, analysed like the fields of a record in xx, so a
//     Finnish practice with an English translation is found in English.
//     The translations themselves are stored as JSON in "translations".
//     Snippets come from the record's own texts, so these fields keep no
//     term locations.
//   - all: the cross-language field. Every record's four texts, as an array,
//     analysed with the fold analyzer (Unicode word segmentation, lowercase,
//     ASCII folding, no stop words, no stemming). It finds exact words in
//     any language and records in languages without their own analysis;
//     phrases are matched here, by the positions of their words. (A field
//     of the texts' word pairs once made a two-word phrase one term lookup,
//     but nearly every pair is a term of its own, and the field was a
//     quarter of the cost of indexing.)
//   - Term locations of "all" are byte offsets into the stored texts (all
//     analyzers share the tokenizer and have no character filter) and carry
//     the array position, which names the text.
//   - facet: one keyword field with "topic=housing", "country=FI", ... terms
//     for every filter and facet. Facets are counted by intersecting each
//     term's postings with the bitmap of matching documents (facets.go).
//   - kind, practice_id, topic, region, country, language: stored only, for
//     hits.
//   - created: datetime with doc values, for date sorting.
func newMapping() *mapping.IndexMappingImpl {
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = foldAnalyzerName
	im.TypeField = fieldType
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	im.DefaultMapping = documentMapping("")
	for _, l := range languages {
		im.AddDocumentMapping(l.code, documentMapping(l.analyzer))
	}
	return im
}

// documentMapping is the mapping of records whose texts are analysed with
// analyzer; "" stores the texts without indexing them.
func documentMapping(analyzer string) *mapping.DocumentMapping {
	dm := mapping.NewDocumentStaticMapping()

	// indexed sets up fm to be indexed only: not stored, not in "all" and
	// without doc values (facets are counted with postings bitmaps).
	indexed := func(fm *mapping.FieldMapping, analyzer string, termVectors bool) *mapping.FieldMapping {
		fm.Analyzer = analyzer
		fm.Store = false
		fm.IncludeTermVectors = termVectors
		fm.IncludeInAll = false
		fm.DocValues = false
		return fm
	}
	// text: analysed words; with term vectors, for phrases and snippet
	// locations, or without.
	text := func(analyzer string, termVectors bool) *mapping.FieldMapping {
		return indexed(mapping.NewTextFieldMapping(), analyzer, termVectors)
	}
	// keyword: whole values, for filters and facets only.
	keyword := func() *mapping.FieldMapping {
		return indexed(mapping.NewKeywordFieldMapping(), keywordAnalyzerName, false)
	}
	stored := func() *mapping.FieldMapping {
		fm := keyword()
		fm.Store = true
		fm.Index = false
		return fm
	}

	for _, tf := range textFields {
		if analyzer == "" {
			dm.AddFieldMappingsAt(tf.name, stored())
			continue
		}
		fm := text(analyzer, false)
		fm.Store = true
		dm.AddFieldMappingsAt(tf.name, fm)
	}
	for _, tf := range translationFields {
		for _, l := range languages {
			dm.AddFieldMappingsAt(langField(tf.name, l.code), text(l.analyzer, false))
		}
	}
	dm.AddFieldMappingsAt(fieldTranslations, stored())
	dm.AddFieldMappingsAt(fieldAll, text(foldAnalyzerName, true))

	dm.AddFieldMappingsAt(fieldFacet, keyword())

	for _, f := range []string{fieldPracticeID, fieldKind, fieldTopic, fieldRegion, fieldCountry, fieldLanguage} {
		dm.AddFieldMappingsAt(f, stored())
	}

	created := mapping.NewDateTimeFieldMapping()
	created.Store = true
	created.IncludeInAll = false
	created.DocValues = true
	dm.AddFieldMappingsAt(fieldCreated, created)
	return dm
}

// Normalisation shared by indexing and filtering, so a filter value matches
// what was indexed.
func normCountry(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
func normKeyword(s string) string { return strings.TrimSpace(s) }
func normKind(s string) string    { return strings.ToLower(strings.TrimSpace(s)) }

// Dates outside this range cannot be stored by bleve (int64 nanoseconds).
var (
	minDate = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// document turns a Doc into the field map bleve indexes.
func (d *Doc) document() map[string]interface{} {
	m := make(map[string]interface{}, 24)
	lang := normLanguage(d.Language)
	spec, hasSpec := languageFor(lang)
	texts := []string{d.Title, d.Summary, d.Lessons, d.Body}
	hasText := false
	for i, tf := range textFields {
		t := texts[i]
		if strings.TrimSpace(t) == "" {
			continue
		}
		hasText = true
		m[tf.name] = t
	}
	if hasSpec {
		m[fieldType] = spec.code
	}
	if hasText {
		// Always four elements, so the array position names the field.
		m[fieldAll] = texts
	}
	if trs := d.normTranslations(lang); len(trs) > 0 {
		for code, tr := range trs {
			l, ok := languageFor(code)
			if !ok || (hasSpec && l.code == spec.code) {
				continue
			}
			for i, t := range []string{tr.Title, tr.Summary} {
				if strings.TrimSpace(t) == "" {
					continue
				}
				f := langField(translationFields[i].name, l.code)
				prev, _ := m[f].([]string)
				m[f] = append(prev, t)
			}
		}
		if b, err := json.Marshal(trs); err == nil {
			m[fieldTranslations] = string(b)
		}
	}
	var facets []string
	put := func(k, v string, facet bool) {
		if v == "" {
			return
		}
		m[k] = v
		if facet {
			facets = append(facets, facetTerm(k, v))
		}
	}
	pid := normKeyword(d.PracticeID)
	if pid == "" {
		pid = d.CID
	}
	put(fieldPracticeID, pid, false)
	put(fieldKind, normKind(d.Kind), true)
	put(fieldRegion, normKeyword(d.Region), true)
	put(fieldCountry, normCountry(d.Country), true)
	put(fieldLanguage, lang, true)
	if d.Stage >= 1 && d.Stage <= 5 {
		facets = append(facets, facetTerm(fieldStage, strconv.Itoa(d.Stage)))
	}
	if d.Adapted {
		facets = append(facets, facetTerm(fieldAdapted, "true"))
	}
	if topics := normTopics(d.Topics); len(topics) > 0 {
		m[fieldTopic] = topics
		for _, t := range topics {
			facets = append(facets, facetTerm(fieldTopic, t))
		}
	}
	if !d.Created.IsZero() && d.Created.After(minDate) && d.Created.Before(maxDate) {
		c := d.Created.UTC()
		m[fieldCreated] = c
		facets = append(facets, facetTerm(fieldYear, strconv.Itoa(c.Year())))
	}
	if len(facets) > 0 {
		m[fieldFacet] = facets
	}
	return m
}

// normTopics trims, drops empty values and duplicates, keeping order.
func normTopics(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, t := range in {
		t = normKeyword(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// normTranslations returns the record's translations keyed by normalised
// language code, without the record's own language and empty ones.
func (d *Doc) normTranslations(own string) map[string]Translation {
	out := map[string]Translation{}
	for code, tr := range d.Translations {
		code = normLanguage(code)
		tr.Title, tr.Summary = strings.TrimSpace(tr.Title), strings.TrimSpace(tr.Summary)
		if code == "" || code == own || (tr.Title == "" && tr.Summary == "") {
			continue
		}
		out[code] = tr
	}
	return out
}

// translationLanguages returns the per-language codes the record's
// translations add to the index.
func (d *Doc) translationLanguages() []string {
	var out []string
	for code := range d.Translations {
		if l, ok := languageFor(normLanguage(code)); ok {
			out = append(out, l.code)
		}
	}
	return out
}
