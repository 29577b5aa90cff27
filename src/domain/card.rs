//! From a card read off a photo to staging values: which product the card is (its brand, and its
//! denomination when the reader gives one, against the products table), and which fields the
//! user must look at before the card's review flag may clear. Pure: plain values in and out.

use serde::{Deserialize, Serialize};

use crate::domain::voucher::Field;

/// A product as the mapping sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductRef<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub operator: &'a str,
    pub active: bool,
}

/// How a card's brand (and denomination) matched the products table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProductMatch {
    /// Exactly one active product fits.
    Mapped { product: String },
    /// Given with `--product` (or the prompt's Product field): no mapping was tried.
    Override { product: String },
    /// The card names no brand the reader knows.
    NoBrand,
    /// No active product has this brand as operator or in its name.
    Unknown { brand: String },
    /// Several products fit; the user picks one.
    Ambiguous {
        brand: String,
        candidates: Vec<String>,
    },
}

impl ProductMatch {
    /// The product code to stage: the mapped one, or a placeholder that no product has (the
    /// brand with a question mark), so the row gets the "unknown product" verdict and shows what
    /// was read.
    pub fn staged_product(&self) -> String {
        match self {
            ProductMatch::Mapped { product } | ProductMatch::Override { product } => {
                product.clone()
            }
            ProductMatch::NoBrand => "?".into(),
            ProductMatch::Unknown { brand } | ProductMatch::Ambiguous { brand, .. } => {
                format!("{}?", key(brand))
            }
        }
    }

    /// One line for the preview and the CLI: how the product was chosen, or what to do.
    pub fn note(&self, lang: crate::i18n::Lang) -> String {
        use crate::i18n::Lang;
        match (self, lang) {
            (ProductMatch::Mapped { product }, Lang::Id) => format!("produk dari merek: {product}"),
            (ProductMatch::Mapped { product }, Lang::En) => {
                format!("product from the brand: {product}")
            }
            (ProductMatch::Override { product }, Lang::Id) => format!("produk dipilih: {product}"),
            (ProductMatch::Override { product }, Lang::En) => {
                format!("product given: {product}")
            }
            (ProductMatch::NoBrand, Lang::Id) => {
                "merek kartu tidak terbaca: isi kolom Produk".into()
            }
            (ProductMatch::NoBrand, Lang::En) => {
                "the card's brand was not read: fill in Product".into()
            }
            (ProductMatch::Unknown { brand }, Lang::Id) => format!(
                "tidak ada produk aktif untuk merek {brand}: tambahkan produknya atau isi kolom Produk"
            ),
            (ProductMatch::Unknown { brand }, Lang::En) => format!(
                "no active product for brand {brand}: add the product or fill in Product"
            ),
            (ProductMatch::Ambiguous { brand, candidates }, Lang::Id) => format!(
                "merek {brand} cocok dengan {}: pilih satu di kolom Produk",
                candidates.join(", ")
            ),
            (ProductMatch::Ambiguous { brand, candidates }, Lang::En) => format!(
                "brand {brand} fits {}: pick one in Product",
                candidates.join(", ")
            ),
        }
    }
}

/// Upper-case letters and digits only: "by.U" -> "BYU", "Tri " -> "TRI".
fn key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The names shops use for a brand in their product table (operator column or product name).
fn aliases(brand_key: &str) -> Vec<&str> {
    let known: &[&[&str]] = &[
        &["TELKOMSEL", "TSEL", "SIMPATI", "KARTUAS"],
        &["INDOSAT", "ISAT", "IM3", "OOREDOO", "INDOSATOOREDOO"],
        &["XL", "XLAXIATA"],
        &["AXIS"],
        &["TRI", "THREE", "3"],
        &["SMARTFREN", "FREN", "SF"],
        &["BYU"],
    ];
    known
        .iter()
        .find(|set| set.contains(&brand_key))
        .map(|set| set.to_vec())
        .unwrap_or_else(|| vec![brand_key])
}

/// Maps a card to a product. Products whose name starts with the brand win over products that
/// only share its operator (a "by.U" card is not a Telkomsel one although by.U products may be
/// run under operator TSEL). A denomination, when given, narrows several candidates to the ones
/// whose name holds it ("10GB", "25.000").
pub fn map_product(
    brand: Option<&str>,
    denomination: Option<&str>,
    products: &[ProductRef],
) -> ProductMatch {
    let Some(brand) = brand.filter(|b| !key(b).is_empty()) else {
        return ProductMatch::NoBrand;
    };
    let bkey = key(brand);
    let names = aliases(&bkey);
    let active: Vec<&ProductRef> = products.iter().filter(|p| p.active).collect();
    let first_word = |p: &ProductRef| key(p.name.split_whitespace().next().unwrap_or(""));
    let by_name: Vec<&ProductRef> = active
        .iter()
        .copied()
        .filter(|p| names.contains(&first_word(p).as_str()))
        .collect();
    let mut found = if by_name.is_empty() {
        active
            .iter()
            .copied()
            .filter(|p| names.contains(&key(p.operator).as_str()))
            .collect()
    } else {
        by_name
    };
    if found.len() > 1 {
        if let Some(d) = denomination.map(key).filter(|d| !d.is_empty()) {
            let narrowed: Vec<&ProductRef> = found
                .iter()
                .copied()
                .filter(|p| key(p.name).contains(&d) || key(p.code).contains(&d))
                .collect();
            if !narrowed.is_empty() {
                found = narrowed;
            }
        }
    }
    let mut codes: Vec<String> = found.iter().map(|p| p.code.to_string()).collect();
    codes.sort();
    codes.dedup();
    match codes.len() {
        0 => ProductMatch::Unknown {
            brand: brand.to_string(),
        },
        1 => ProductMatch::Mapped {
            product: codes.remove(0),
        },
        _ => ProductMatch::Ambiguous {
            brand: brand.to_string(),
            candidates: codes,
        },
    }
}

/// The fields a card's review reasons point at; a reason that names no field (low confidence,
/// too many digit lines, ...) puts code, serial and expiry all under review.
pub fn review_fields(reasons: &[String]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut general = false;
    for r in reasons {
        let r = r.to_ascii_lowercase();
        let mut named = false;
        for (word, f) in [
            ("serial", Field::Serial),
            ("code", Field::Code),
            ("expiry", Field::Expiry),
        ] {
            if r.contains(word) {
                named = true;
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        general |= !named;
    }
    if general {
        for f in [Field::Code, Field::Serial, Field::Expiry] {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out.sort_by_key(|f| field_order(*f));
    out
}

fn field_order(f: Field) -> u8 {
    match f {
        Field::Product => 0,
        Field::Code => 1,
        Field::Serial => 2,
        Field::Expiry => 3,
    }
}

/// "code,serial" <-> fields, as kept in the store.
pub fn fields_to_text(fields: &[Field]) -> String {
    let mut v: Vec<Field> = fields.to_vec();
    v.sort_by_key(|f| field_order(*f));
    v.dedup();
    v.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
}

pub fn fields_from_text(s: &str) -> Vec<Field> {
    s.split(',')
        .filter_map(|p| Field::parse(p.trim()))
        .collect()
}

/// Whether a card still needs review: it was flagged when read and some flagged field is not
/// yet confirmed by the user.
pub fn still_needs_review(flagged: bool, review: &[Field], confirmed: &[Field]) -> bool {
    flagged && (review.is_empty() || review.iter().any(|f| !confirmed.contains(f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p<'a>(code: &'a str, name: &'a str, operator: &'a str) -> ProductRef<'a> {
        ProductRef {
            code,
            name,
            operator,
            active: true,
        }
    }

    fn demo() -> Vec<ProductRef<'static>> {
        vec![
            p("TSELVD5", "Telkomsel Data 5GB", "TSEL"),
            p("TSELVD10", "Telkomsel Data 10GB", "TSEL"),
            p("ISATVD3", "Indosat Data 3GB", "ISAT"),
            p("XLVD5", "XL Data 5GB", "XL"),
            p("AXISVD2", "Axis Data 2GB", "AXIS"),
            p("TRIVD6", "Tri Data 6GB", "TRI"),
            p("BYU10", "by.U Internet 10GB", "TSEL"),
        ]
    }

    fn mapped(code: &str) -> ProductMatch {
        ProductMatch::Mapped {
            product: code.into(),
        }
    }

    #[test]
    fn one_product_per_brand_maps() {
        let d = demo();
        assert_eq!(map_product(Some("INDOSAT"), None, &d), mapped("ISATVD3"));
        assert_eq!(map_product(Some("XL"), None, &d), mapped("XLVD5"));
        assert_eq!(map_product(Some("TRI"), None, &d), mapped("TRIVD6"));
        assert_eq!(map_product(Some("AXIS"), None, &d), mapped("AXISVD2"));
    }

    #[test]
    fn by_u_is_not_telkomsel_although_its_operator_is() {
        let d = demo();
        assert_eq!(map_product(Some("by.U"), None, &d), mapped("BYU10"));
        // Telkomsel cards: the two Telkomsel products by name, not the by.U one.
        assert_eq!(
            map_product(Some("TELKOMSEL"), None, &d),
            ProductMatch::Ambiguous {
                brand: "TELKOMSEL".into(),
                candidates: vec!["TSELVD10".into(), "TSELVD5".into()],
            }
        );
    }

    #[test]
    fn denomination_narrows_the_candidates() {
        let d = demo();
        assert_eq!(
            map_product(Some("TELKOMSEL"), Some("10 GB"), &d),
            mapped("TSELVD10")
        );
        // A denomination no product has leaves the choice to the user.
        assert!(matches!(
            map_product(Some("TELKOMSEL"), Some("99GB"), &d),
            ProductMatch::Ambiguous { .. }
        ));
    }

    #[test]
    fn operator_column_maps_when_names_do_not() {
        let d = vec![p("V25", "Voucher 25rb", "INDOSAT")];
        assert_eq!(map_product(Some("INDOSAT"), None, &d), mapped("V25"));
        let d = vec![p("IM3-5", "Paket 5GB", "IM3")];
        assert_eq!(map_product(Some("INDOSAT"), None, &d), mapped("IM3-5"));
    }

    #[test]
    fn unknown_and_missing_brands_and_inactive_products() {
        let mut d = demo();
        assert_eq!(
            map_product(Some("SMARTFREN"), None, &d),
            ProductMatch::Unknown {
                brand: "SMARTFREN".into()
            }
        );
        assert_eq!(map_product(None, None, &d), ProductMatch::NoBrand);
        assert_eq!(map_product(Some(" . "), None, &d), ProductMatch::NoBrand);
        d[2].active = false;
        assert!(matches!(
            map_product(Some("INDOSAT"), None, &d),
            ProductMatch::Unknown { .. }
        ));
    }

    #[test]
    fn unmapped_cards_stage_a_product_no_one_has() {
        let m = ProductMatch::Ambiguous {
            brand: "by.U".into(),
            candidates: vec!["A".into(), "B".into()],
        };
        assert_eq!(m.staged_product(), "BYU?");
        assert_eq!(ProductMatch::NoBrand.staged_product(), "?");
        assert!(m.note(crate::i18n::Lang::En).contains("A, B"));
    }

    #[test]
    fn reasons_point_at_fields() {
        let r = |v: &[&str]| review_fields(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(r(&["serial readings disagree"]), vec![Field::Serial]);
        assert_eq!(
            r(&["no expiry found", "code length unusual"]),
            vec![Field::Code, Field::Expiry]
        );
        assert_eq!(
            r(&["low OCR confidence"]),
            vec![Field::Code, Field::Serial, Field::Expiry]
        );
        assert!(r(&[]).is_empty());
    }

    #[test]
    fn review_clears_only_when_every_flagged_field_is_confirmed() {
        let review = [Field::Code, Field::Serial];
        assert!(still_needs_review(true, &review, &[Field::Code]));
        assert!(!still_needs_review(
            true,
            &review,
            &[Field::Serial, Field::Code]
        ));
        assert!(!still_needs_review(false, &[], &[]));
        assert_eq!(fields_to_text(&[Field::Serial, Field::Code]), "code,serial");
        assert_eq!(
            fields_from_text("code,serial"),
            vec![Field::Code, Field::Serial]
        );
    }
}
