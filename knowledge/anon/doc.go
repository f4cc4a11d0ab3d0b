// SPDX-License-Identifier: EUPL-1.2

// Package anon is the free-text engine of the anonymisation gate: it scrubs
// the text fields of a practice or lesson before the record leaves the node,
// and reports every redaction so that a person can review a preview of
// exactly what will be published.
//
// # What it removes
//
// A Gate runs a set of detectors over the original text and collects
// findings with byte offsets into it:
//
//   - e-mail addresses, including "name (at) example (dot) org";
//   - URLs that carry a personal token (mailto:, an e-mail address or %40,
//     query or fragment parameters such as token, key, email, user, id,
//     session, or a per-person path such as /users/NAME); a URL that
//     contains any other personal value is redacted whole, while public
//     URLs are kept;
//   - phone numbers in international form and in the national forms of
//     Finland, Sweden, Norway, Iceland, Denmark, Ireland and the United
//     Kingdom, validated with libphonenumber metadata (github.com/nyaruka/
//     phonenumbers); years, dates, times, grouped statistics ("1 234 567"),
//     money, percentages and reference numbers are rejected before that;
//   - IBANs (country length and ISO 7064 mod-97) and payment card numbers
//     (issuer prefix and Luhn);
//   - IPv4 and IPv6 addresses (net/netip);
//   - national identity numbers, each with its checksum or, where there is
//     none, its structure: Finnish henkilötunnus (mod 31), Swedish
//     personnummer and samordningsnummer (Luhn, date), Norwegian
//     fødselsnummer and D-number (two mod-11 digits), Icelandic kennitala
//     (mod 11, century digit), Danish CPR (valid date; only with the dash or
//     after "CPR", since modulus 11 is no longer guaranteed), Irish PPSN
//     (mod 23 letter) and UK National Insurance number (prefix rules);
//   - street addresses with flat, staircase and floor suffixes ("Koulukatu 5
//     B 12", "Storgatan 14 lgh 1102", "Vestergade 3, 2. tv.", "Apt 4B, 12
//     Main Street"), Nordic postcodes followed by a town, UK postcodes and
//     Irish Eircodes;
//   - the lab's registered stakeholders (Registry): names matched without
//     regard to case, in inflected and possessive forms (Finnish cases with
//     consonant gradation, Scandinavian and English genitives, Icelandic
//     declension through the lexicon's lemmas, Irish lenition), in ASCII
//     spellings (ø→o, ð→d, þ→th, æ→ae, á→a), with either apostrophe and
//     Mac/Mc, glued inside URLs, handles and hashtags, a registered
//     person's first name or surname alone, organisation names as a whole,
//     and registered
//     contact details compared after removing spaces, dashes and dots (phone
//     numbers also in their national and international forms);
//   - social-media handles that begin with a known given name;
//   - small counts of people ("3 residents", "2 osallistujaa", "two Syrian
//     families", "kolme yli 90-vuotiasta asukasta", "3 íbúum"), replaced by
//     "fewer than K" in the record's language, and exact ages ("aged 91",
//     "91-vuotias", "91 år", "Dorothy Bell (81)"), replaced by ten-year
//     bands (AgeBand).
//
// Overlapping findings are merged: a cluster of overlapping spans becomes
// one finding over their union, typed and replaced by its most specific
// member (an identity number beats a phone number, a personal URL beats
// the e-mail inside it). Every redacted value is then looked for again in
// the whole text, so a value found once in a context that made it certain is
// not left standing elsewhere.
//
// # Names and ordinary words
//
// Names of people who are not in the registry cannot be recognised with
// certainty. The gate weighs each run of capitalised words with evidence
// from package lexicon (Debian's Hunspell dictionaries for English,
// Swedish, Norwegian, Danish, Icelandic and Irish, Voikko's Finnish
// morphology, Faker's given names and surnames): a common word of the
// record's language or an inflection or compound of one, a place name, an
// organisation or facility word, a CamelCase product name, or a preposition
// of place before it count against a person; a known given name or
// surname, an Icelandic patronymic, an Irish particle ("Ní", "Ó", "Mac"),
// a title, an initial, a verb of speech after it, an age in apposition
// ("Mairéad, 79,") or a redacted name beside it count for one. Words
// naming a kind of organisation after a run ("Nord universitet") count
// against a person; so does a place preposition before a run that opens
// with a proper noun other than a given name and ends in no surname ("at
// Kirkby Stephen"). A sentence-opening ordinary word does not join the
// name after it, unless the dictionaries also know it as a proper noun and
// a known name follows ("Amir Khan"). Coordinated phrases name things of
// one kind: a run joined by "and", "og", "och", "ja" or "agus" to a person
// takes that person's verdict when it can be read as a name itself
// ("Grace and Stanley", "Snorri og Hildur"), and an unknown word joined to
// a place is no person ("Kelvän ja Vuonislahden"). Runs with evidence of a person become Candidates marked
// Certain; runs with no evidence either way (a word no lexicon knows)
// become uncertain Candidates; the rest are kept. Options.Language selects
// the record's language (otherwise it is guessed from the text); the
// lexicons are loaded once per process, and Ready reports whether they are
// usable.
//
// Candidates stay in the text unless Options.FailClosed is set; then they
// are redacted as "[person]" (in the record's language) with Detector
// "name-evidence" or "uncertain-name" and the evidence in Finding.Evidence.
// A reviewer resolves them with Options.Confirmed (not personal, kept) and
// Options.Redact (personal, always redacted); Options.Vocabulary adds
// public words learnt elsewhere. If the lexicons cannot be loaded the gate
// fails closed: every capitalised word it cannot place in its own word
// lists is an uncertain candidate.
//
// # Public data that stays
//
// Role and office mailboxes (every part of the local part a common word or
// compound of common words, no name: "registrator@", "kirjaamo@",
// "postmottak@", "kundtjanst@"), organisation identifiers checked by shape,
// check digit and context (Finnish Y-tunnus, Swedish organisationsnummer,
// Norwegian organisasjonsnummer, Danish CVR, Icelandic company kennitala,
// Irish CRO and UK company numbers) and numbers after "diarienummer",
// "asianumero", "case reference", "invoice" and the like that fail every
// personal-number check are kept. Age thresholds ("aged 75 and over",
// "yli 75-vuotiaat") are not banded.
//
// # Small numbers
//
// Gate.ScrubCounts suppresses a table of counts: cells under K are shown as
// "fewer than K"; if exactly one cell is suppressed the next smallest is
// suppressed too; and the total is shown only when no cell is suppressed.
// See its documentation for the reasoning.
//
// # Limits
//
// The gate lowers the risk of publishing personal data; it does not remove
// the need for the human review that comes after it.
//
//   - A name that is not registered can slip through when it is written in
//     lower case or in capitals, or when it is also a common word ("Rose",
//     "Berg", "Koivu") and does not stand next to another name. So can a
//     name written only as initials, and a nickname.
//   - Text in other languages produces many candidates; with FailClosed
//     those become over-redactions that the reviewer has to confirm. So do
//     words no lexicon knows (new compounds with a foreign first part,
//     small places, loanwords a dictionary lacks: "Caifé", "Digihjelp").
//     The measured rates, on the evaluation set and on practices written
//     without personal names, are in bench/anon-eval.md.
//   - Indirect identification is not detected: a job title in a small
//     village ("the only midwife in Koli"), a rare illness, a described
//     event or a photograph can identify a person without any name or
//     number.
//   - Numbers are only recognised in the formats listed above. A phone number
//     split in unusual ways, an identity number without its separator in a
//     scheme whose check fails by chance, or a foreign identity number is
//     not caught.
//   - Street addresses are recognised by their street types and a house
//     number; rural addresses made only of a farm or townland name are not.
//   - Small counts are recognised only right before a word for people; "the
//     group had 3" is not changed. ScrubCounts protects a table against a
//     total published elsewhere only as far as described in its
//     documentation.
//
// A Gate is safe for concurrent use. Scrub runs in linear time in the length
// of the text; a practice of 5,000 words with 100 registered stakeholders
// takes a few milliseconds once the lexicons are loaded (bench/anon-eval.md).
package anon
