package search

import (
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/mapping"
)

// Keyword and date fields of the index. The facet names used in Result and
// Query.FacetNames are the same strings.
const (
	fieldPracticeID = "practice_id"
	fieldKind       = "kind"
	fieldTopic      = "topic"
	fieldRegion     = "region"
	fieldCountry    = "country"
	fieldLanguage   = "language"
	fieldStage      = "stage"
	fieldYear       = "year"
	fieldCreated    = "created"
)

// FacetNames lists the facets Search can count, in display order.
var FacetNames = []string{fieldTopic, fieldRegion, fieldCountry, fieldStage, fieldLanguage, fieldYear}

// newMapping builds the index mapping for SchemaVersion.
//
//   - title, summary, lessons, body: the cross-language fields, analysed with
//     the fold analyzer (Unicode word segmentation, lowercase, ASCII folding,
//     no stop words, no stemming). Every record is indexed here, whatever its
//     language, and the original text is stored for snippets.
//   - title_xx, summary_xx, lessons_xx, body_xx: the same text again, analysed
//     with language xx's analyzer (stop words + stemmer), for records in xx.
//     Not stored: snippets use the stored cross-language text, whose byte
//     offsets are the same because every analyzer uses the same tokenizer and
//     no character filter.
//   - keyword fields for filters and facets (doc values only where a facet
//     or sort needs them), and created (datetime) for date sorting.
func newMapping() *mapping.IndexMappingImpl {
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = foldAnalyzerName
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false

	dm := mapping.NewDocumentStaticMapping()

	text := func(analyzer string, store bool) *mapping.FieldMapping {
		fm := mapping.NewTextFieldMapping()
		fm.Analyzer = analyzer
		fm.Store = store
		fm.IncludeTermVectors = true // phrase queries and snippet locations
		fm.IncludeInAll = false
		fm.DocValues = false
		return fm
	}
	keyword := func(store, docValues bool) *mapping.FieldMapping {
		fm := mapping.NewKeywordFieldMapping()
		fm.Analyzer = keywordAnalyzerName
		fm.Store = store
		fm.IncludeTermVectors = false
		fm.IncludeInAll = false
		fm.DocValues = docValues
		return fm
	}

	for _, tf := range textFields {
		dm.AddFieldMappingsAt(tf.name, text(foldAnalyzerName, true))
		for _, l := range languages {
			dm.AddFieldMappingsAt(langField(tf.name, l.code), text(l.analyzer, false))
		}
	}
	dm.AddFieldMappingsAt(fieldPracticeID, keyword(true, false))
	dm.AddFieldMappingsAt(fieldKind, keyword(true, false))
	dm.AddFieldMappingsAt(fieldTopic, keyword(true, true))
	dm.AddFieldMappingsAt(fieldRegion, keyword(true, true))
	dm.AddFieldMappingsAt(fieldCountry, keyword(true, true))
	dm.AddFieldMappingsAt(fieldLanguage, keyword(true, true))
	dm.AddFieldMappingsAt(fieldStage, keyword(false, true))
	dm.AddFieldMappingsAt(fieldYear, keyword(false, true))

	created := mapping.NewDateTimeFieldMapping()
	created.Store = true
	created.IncludeInAll = false
	created.DocValues = true
	dm.AddFieldMappingsAt(fieldCreated, created)

	im.DefaultMapping = dm
	return im
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
	texts := [...]string{d.Title, d.Summary, d.Lessons, d.Body}
	for i, tf := range textFields {
		t := texts[i]
		if strings.TrimSpace(t) == "" {
			continue
		}
		m[tf.name] = t
		if hasSpec {
			m[langField(tf.name, spec.code)] = t
		}
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	pid := normKeyword(d.PracticeID)
	if pid == "" {
		pid = d.CID
	}
	put(fieldPracticeID, pid)
	put(fieldKind, normKind(d.Kind))
	put(fieldRegion, normKeyword(d.Region))
	put(fieldCountry, normCountry(d.Country))
	put(fieldLanguage, lang)
	if d.Stage >= 1 && d.Stage <= 5 {
		m[fieldStage] = strconv.Itoa(d.Stage)
	}
	if topics := normTopics(d.Topics); len(topics) > 0 {
		m[fieldTopic] = topics
	}
	if !d.Created.IsZero() && d.Created.After(minDate) && d.Created.Before(maxDate) {
		c := d.Created.UTC()
		m[fieldCreated] = c
		m[fieldYear] = strconv.Itoa(c.Year())
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
