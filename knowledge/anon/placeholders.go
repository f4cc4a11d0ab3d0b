// SPDX-License-Identifier: EUPL-1.2

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

// detectorEvidence explains a detector whose findings carry no evidence of
// their own, for the review report.
var detectorEvidence = map[string]string{
	"email":                 "an e-mail address whose local part is not a role or office",
	"email-obfuscated":      "an e-mail address written with (at) and (dot)",
	"url-personal":          "a URL carrying a personal token, e-mail address, identity number or registered name",
	"phonenumbers":          "a number valid as a phone number in libphonenumber's metadata",
	"iban-mod97":            "an IBAN with a valid country length and mod-97 check",
	"card-luhn":             "a payment card number with a known issuer prefix and valid Luhn check",
	"ipv4":                  "an IPv4 address",
	"ipv6":                  "an IPv6 address",
	"fi-henkilotunnus":      "a Finnish henkilötunnus with a valid mod-31 check character",
	"se-personnummer":       "a Swedish personnummer with a valid date and Luhn check",
	"se-samordningsnummer":  "a Swedish samordningsnummer with a valid date and Luhn check",
	"no-fodselsnummer":      "a Norwegian fødselsnummer with two valid mod-11 check digits",
	"is-kennitala":          "an Icelandic personal kennitala with a valid mod-11 check digit and century",
	"dk-cpr":                "a Danish CPR number with a valid date, written with a dash or after CPR",
	"ie-ppsn":               "an Irish PPSN with a valid mod-23 check letter",
	"uk-nino":               "a UK National Insurance number",
	"street-address":        "a street name with a house number",
	"street-address-en":     "a house number with an English street type",
	"flat-number":           "a flat or apartment number",
	"postcode-nordic":       "a Nordic postcode followed by a town",
	"postcode-uk":           "a UK postcode",
	"eircode":               "an Irish Eircode",
	"registry-contact":      "a registered stakeholder's contact detail",
	"registry-name":         "a registered stakeholder's name, possibly inflected or in another spelling",
	"registry-name-part":    "a registered person's first name or surname",
	"registry-organisation": "a registered organisation's name",
	"confirmed-personal":    "marked personal by a reviewer",
	"small-count":           "a count of people below the threshold",
	"exact-age":             "a person's exact age, shown as a ten-year band",
}
