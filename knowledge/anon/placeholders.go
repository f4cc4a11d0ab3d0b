package anon

import (
	"strconv"

	"github.com/livinglab/livinglab/knowledge/lexicon"
)

// placeholderWords are the replacement texts of one language.
type placeholderWords struct {
	person, organisation, email, phone, address string
	fewer                                       string // "fewer than %d" as prefix
}

func (p placeholderWords) fewerThan(k int) string { return p.fewer + " " + strconv.Itoa(k) }

// placeholdersFor returns the replacement texts in the record's language;
// English when the language is not given.
func placeholdersFor(l lexicon.Lang) placeholderWords {
	switch l {
	case lexicon.Finnish:
		return placeholderWords{person: "[henkilö]", organisation: "[organisaatio]", email: "[sähköposti]", phone: "[puhelin]", address: "[osoite]", fewer: "alle"}
	case lexicon.Swedish:
		return placeholderWords{person: "[person]", organisation: "[organisation]", email: "[e-post]", phone: "[telefon]", address: "[adress]", fewer: "färre än"}
	case lexicon.Norwegian, lexicon.Bokmal, lexicon.Nynorsk:
		return placeholderWords{person: "[person]", organisation: "[organisasjon]", email: "[e-post]", phone: "[telefon]", address: "[adresse]", fewer: "færre enn"}
	case lexicon.Danish:
		return placeholderWords{person: "[person]", organisation: "[organisation]", email: "[e-mail]", phone: "[telefon]", address: "[adresse]", fewer: "færre end"}
	case lexicon.Icelandic:
		return placeholderWords{person: "[einstaklingur]", organisation: "[stofnun]", email: "[netfang]", phone: "[sími]", address: "[heimilisfang]", fewer: "færri en"}
	case lexicon.Irish:
		return placeholderWords{person: "[duine]", organisation: "[eagraíocht]", email: "[ríomhphost]", phone: "[fón]", address: "[seoladh]", fewer: "níos lú ná"}
	}
	return placeholderWords{person: "[person]", organisation: "[organisation]", email: "[email]", phone: "[phone]", address: "[address]", fewer: "fewer than"}
}
