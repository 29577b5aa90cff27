use super::*;

fn no_aliases() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn facts(comment: &str) -> UserFacts<'_> {
    UserFacts {
        comment,
        profile: "10Menit",
        ..Default::default()
    }
}

// ----- status (§1) ------------------------------------------------------------------------

#[test]
fn fresh_voucher_is_ready() {
    let d = derive_status(&facts("vc-123-05.21.22-Blok-A10"));
    assert_eq!(d.status, Status::Ready);
    assert!(!d.used && !d.rusak && !d.retur);
}

#[test]
fn active_user_is_online_whatever_the_flags() {
    let mut f = facts("Audit: RUSAK 21/11/26 Blok-A10");
    f.active = Some(ActiveFacts {
        uptime_s: 30,
        bytes: 10,
    });
    assert_eq!(derive_status(&f).status, Status::Online);
    let mut g = facts("Blok-A10 (Retur) Valid: Retur Ref:vc-abc | Profile:10Menit");
    g.active = Some(ActiveFacts::default());
    assert_eq!(derive_status(&g).status, Status::Online);
}

#[test]
fn bytes_take_the_maximum_of_three_sources() {
    let mut f = facts("Blok-A10");
    f.bytes = 100;
    f.active = Some(ActiveFacts {
        uptime_s: 5,
        bytes: 300,
    });
    f.history = Some(HistoryFacts {
        bytes: 200,
        ..Default::default()
    });
    assert_eq!(derive_status(&f).bytes, 300);
    f.active = None;
    assert_eq!(derive_status(&f).bytes, 200);
}

#[test]
fn uptime_prefers_active_then_nonzero_history_then_router() {
    let mut f = facts("Blok-A10");
    f.uptime_s = 10;
    f.history = Some(HistoryFacts {
        uptime_s: 20,
        ..Default::default()
    });
    f.active = Some(ActiveFacts {
        uptime_s: 30,
        bytes: 0,
    });
    assert_eq!(derive_status(&f).uptime_s, 30);
    f.active = None;
    assert_eq!(derive_status(&f).uptime_s, 20);
    f.history = Some(HistoryFacts::default());
    assert_eq!(derive_status(&f).uptime_s, 10);
}

#[test]
fn used_needs_more_than_fifty_bytes_or_uptime() {
    let mut f = facts("Blok-A10");
    f.bytes = 50;
    assert_eq!(derive_status(&f).status, Status::Ready);
    f.bytes = 51;
    assert_eq!(derive_status(&f).status, Status::Terpakai);
    let mut g = facts("Blok-A10");
    g.uptime_s = 1;
    assert_eq!(derive_status(&g).status, Status::Terpakai);
    let mut h = facts("Blok-A10");
    h.history = Some(HistoryFacts {
        login_count: 1,
        ..Default::default()
    });
    assert_eq!(derive_status(&h).status, Status::Terpakai);
    h.history = Some(HistoryFacts {
        status: Some(HistoryStatus::Terpakai),
        ..Default::default()
    });
    assert_eq!(derive_status(&h).status, Status::Terpakai);
    h.history = Some(HistoryFacts {
        status: Some(HistoryStatus::Ready),
        ..Default::default()
    });
    assert_eq!(derive_status(&h).status, Status::Ready);
}

#[test]
fn rusak_comes_from_comment_history_or_disabled() {
    let d = derive_status(&facts("Audit: RUSAK 21/11/26 vc-123-05.21.22-Blok-A10"));
    assert_eq!(d.status, Status::Rusak);
    assert_eq!(
        derive_status(&facts("RUSAK Blok-A10")).status,
        Status::Rusak
    );
    assert_eq!(derive_status(&facts("rusak manual")).status, Status::Rusak);
    // "rusak" in the middle of a comment without "Audit:" is not a flag.
    assert_eq!(
        derive_status(&facts("Blok-A10 kata rusak")).status,
        Status::Ready
    );
    let mut f = facts("Blok-A10");
    f.disabled = true;
    f.bytes = 10_000;
    let d = derive_status(&f);
    assert_eq!(d.status, Status::Rusak);
    assert!(!d.used, "a disabled voucher is never counted as used");
    let mut h = facts("Blok-A10");
    h.history = Some(HistoryFacts {
        status: Some(HistoryStatus::Rusak),
        ..Default::default()
    });
    assert_eq!(derive_status(&h).status, Status::Rusak);
}

#[test]
fn retur_clears_rusak() {
    let mut f = facts("Blok-A10 (Retur) Valid: Retur Ref:vc-k3x9a2 | Profile:10Menit");
    f.disabled = true;
    let d = derive_status(&f);
    assert_eq!(d.status, Status::Retur);
    assert!(d.retur && !d.rusak);
    let mut h = facts("Audit: RUSAK 01/01/26 x");
    h.history = Some(HistoryFacts {
        status: Some(HistoryStatus::Retur),
        ..Default::default()
    });
    assert_eq!(derive_status(&h).status, Status::Retur);
    assert_eq!(derive_status(&facts("Retur Ref:abc")).status, Status::Retur);
}

#[test]
fn invalid_only_from_the_word() {
    assert_eq!(
        derive_status(&facts("Blok-A10 invalid")).status,
        Status::Invalid
    );
    assert_eq!(
        derive_status(&facts("Blok-A10 INVALID kode")).status,
        Status::Invalid
    );
    assert_eq!(
        derive_status(&facts("Blok-A10 invalidated")).status,
        Status::Ready
    );
    // retur and rusak win over invalid (§5 precedence).
    assert_eq!(
        derive_status(&facts("Audit: RUSAK 01/01/26 invalid")).status,
        Status::Rusak
    );
}

#[test]
fn vip_replaces_ready_only() {
    assert_eq!(
        derive_status(&facts("2026-11-21 10:00 | Blok-A10 | VIP")).status,
        Status::Pengelola
    );
    assert_eq!(
        derive_status(&facts("Pengelola Blok-A10")).status,
        Status::Pengelola
    );
    let mut f = facts("Blok-A10 | VIP");
    f.bytes = 1000;
    assert_eq!(derive_status(&f).status, Status::Terpakai);
    assert_eq!(derive_status(&facts("Blok-VIPER")).status, Status::Ready);
}

#[test]
fn terpakai_warning_thresholds() {
    // 10 minutes: 0 < bytes < 2 MiB and (uptime >= 600 or 0 < uptime <= 300).
    assert!(terpakai_warning(Some(10), MIB, 600));
    assert!(terpakai_warning(Some(10), MIB, 300));
    assert!(!terpakai_warning(Some(10), MIB, 301));
    assert!(!terpakai_warning(Some(10), MIB, 599));
    assert!(!terpakai_warning(Some(10), 2 * MIB, 100));
    assert!(!terpakai_warning(Some(10), 0, 100));
    assert!(!terpakai_warning(Some(10), MIB, 0));
    // 30 minutes: 3 MiB, 1800 s.
    assert!(terpakai_warning(Some(30), 3 * MIB - 1, 1800));
    assert!(!terpakai_warning(Some(30), 3 * MIB, 1800));
    assert!(!terpakai_warning(Some(30), MIB, 600));
    assert!(!terpakai_warning(None, MIB, 100));
    assert!(!terpakai_warning(Some(60), MIB, 100));
    let mut f = facts("Blok-A10");
    f.bytes = MIB;
    f.uptime_s = 120;
    let d = derive_status(&f);
    assert_eq!(d.status, Status::Terpakai);
    assert!(d.warning);
}

#[test]
fn stored_last_status_order_and_no_ready() {
    use HistoryStatus as H;
    assert_eq!(
        sync_last_status(true, "RETUR", true, true, None),
        Some(H::Online)
    );
    assert_eq!(
        sync_last_status(false, "Blok-A10 (Retur)", true, true, None),
        Some(H::Retur)
    );
    assert_eq!(
        sync_last_status(false, "Blok-A10", true, false, None),
        Some(H::Rusak)
    );
    assert_eq!(
        sync_last_status(false, "Audit: RUSAK 1/1/26 x", false, false, None),
        Some(H::Rusak)
    );
    assert_eq!(
        sync_last_status(false, "Blok-A10", false, true, None),
        Some(H::Terpakai)
    );
    assert_eq!(
        sync_last_status(false, "Blok-A10", false, false, None),
        None
    );
    // konter's own rusak (auto-rusak) is kept against a plain terpakai (§12.6).
    assert_eq!(
        sync_last_status(false, "Blok-A10", false, true, Some(H::Rusak)),
        Some(H::Rusak)
    );
    // a user who was terpakai stays terpakai even if the router reset its counters.
    assert_eq!(
        sync_last_status(false, "Blok-A10", false, false, Some(H::Terpakai)),
        Some(H::Terpakai)
    );
    // online always wins.
    assert_eq!(
        sync_last_status(true, "Blok-A10", false, true, Some(H::Rusak)),
        Some(H::Online)
    );
}

#[test]
fn status_names_parse_in_any_case() {
    for s in Status::ALL {
        assert_eq!(Status::parse(&s.as_str().to_lowercase()), Some(s));
    }
    assert_eq!(Status::parse("vip"), Some(Status::Pengelola));
    assert_eq!(Status::parse("sold"), None);
    assert_eq!(HistoryStatus::parse("RUSAK"), Some(HistoryStatus::Rusak));
    assert_eq!(HistoryStatus::parse("x"), None);
}

#[test]
fn retur_ref_names_the_original() {
    assert_eq!(
        retur_ref("Blok-A10 (Retur) Valid: Retur Ref:vc-k3x9a2 | Profile:10Menit").as_deref(),
        Some("k3x9a2")
    );
    assert_eq!(retur_ref("Retur Ref: abc123").as_deref(), Some("abc123"));
    assert_eq!(retur_ref("Blok-A10 (Retur)"), None);
    assert_eq!(retur_ref("Retur Ref:"), None);
    assert_eq!(retur_ref("é Retur Ref:vc-x1|y").as_deref(), Some("x1"));
    let hidden = replaced_originals(["Retur Ref:vc-aa", "Blok-A10", "Retur Ref:vc-bb | x"]);
    assert_eq!(hidden.len(), 2);
    assert!(hidden.contains("aa") && hidden.contains("bb"));
}

// ----- blok, profile (§2, §3) ------------------------------------------------------------------

#[test]
fn blok_normalisation() {
    let a = no_aliases();
    assert_eq!(normalize_blok("Blok-A10", &a).as_deref(), Some("BLOK-A"));
    assert_eq!(
        normalize_blok("vc-123-05.21.22-Blok-B30", &a).as_deref(),
        Some("BLOK-B")
    );
    assert_eq!(normalize_blok("blok_c", &a).as_deref(), Some("BLOK-C"));
    assert_eq!(normalize_blok("BLOK dd2", &a).as_deref(), Some("BLOK-DD"));
    assert_eq!(normalize_blok("blokE", &a).as_deref(), Some("BLOK-E"));
    assert_eq!(normalize_blok("Blok-10", &a).as_deref(), Some("BLOK-LAIN"));
    assert_eq!(normalize_blok("tanpa blok", &a), None);
    assert_eq!(normalize_blok("", &a), None);
    assert_eq!(
        normalize_blok("2026-11-21 10:00:00 | Blok-F10 | VIP", &a).as_deref(),
        Some("BLOK-F")
    );
    let mut al = BTreeMap::new();
    al.insert("BLOK-W".to_string(), "BLOK-WARTEL".to_string());
    assert_eq!(
        normalize_blok("Blok-W10", &al).as_deref(),
        Some("BLOK-WARTEL")
    );
}

#[test]
fn profile_minutes_sources() {
    assert_eq!(minutes_in_text("10Menit"), Some(10));
    assert_eq!(minutes_in_text("30 menit"), Some(30));
    assert_eq!(minutes_in_text("10m"), Some(10));
    assert_eq!(minutes_in_text("110m"), None);
    assert_eq!(minutes_in_text("10mb"), None);
    assert_eq!(minutes_in_text("1d"), None);
    assert_eq!(blok_minutes("vc-1-x-Blok-A30"), Some(30));
    assert_eq!(blok_minutes("Blok-A60"), None);
    // validity first, then profile/comment, then blok.
    assert_eq!(profile_minutes(&["30m", "10Menit"]), Some(30));
    assert_eq!(profile_minutes(&["1d", "default", "Blok-A10"]), Some(10));
    assert_eq!(profile_minutes(&["1d", "default", "Blok-A"]), None);
    assert_eq!(profile_key(" 10 Menit"), "10menit");
}

// ----- uptime and dates -----------------------------------------------------------------------

#[test]
fn uptime_strings() {
    assert_eq!(
        parse_uptime("1w2d3h4m5s"),
        Some(604_800 + 172_800 + 10_800 + 240 + 5)
    );
    assert_eq!(parse_uptime("10m"), Some(600));
    assert_eq!(parse_uptime("0s"), Some(0));
    assert_eq!(parse_uptime("4m12s500ms"), Some(252));
    assert_eq!(parse_uptime("00:04:12"), Some(252));
    assert_eq!(parse_uptime("1d02:00:00"), Some(93_600));
    assert_eq!(parse_uptime(""), None);
    assert_eq!(parse_uptime("abc"), None);
    assert_eq!(parse_uptime("10"), None);
    assert_eq!(parse_uptime("5x"), None);
    assert_eq!(parse_uptime("00:61:00"), None);
    assert_eq!(format_uptime(694_445), "1w1d54m5s");
    assert_eq!(format_uptime(0), "0s");
    assert_eq!(parse_uptime(&format_uptime(987_654)), Some(987_654));
    assert_eq!(format_clock(252), "00:04:12");
}

#[test]
fn sale_dates() {
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
    assert_eq!(parse_sale_date("2026-11-21 10:00:00"), d(2026, 11, 21));
    assert_eq!(parse_sale_date("jan/21/2022"), d(2022, 1, 21));
    assert_eq!(parse_sale_date("NOV/05/2026"), d(2026, 11, 5));
    // NN/NN/YYYY is MM/DD.
    assert_eq!(parse_sale_date("03/04/2026"), d(2026, 3, 4));
    assert_eq!(parse_sale_date("21/11/2026"), None);
    assert_eq!(parse_sale_date("kemarin"), None);
    assert_eq!(parse_sale_date(""), None);
    assert_eq!(router_date(d(2026, 11, 21).unwrap()), "nov/21/2026");
}

// ----- generated vouchers (§2) ------------------------------------------------------------------

#[test]
fn generated_comment_round_trip() {
    let c = GeneratedComment::parse("vc-123-05.21.22-Blok-A10").unwrap();
    assert_eq!(c.mode, VoucherMode::Vc);
    assert_eq!(c.code, 123);
    assert_eq!(c.date, NaiveDate::from_ymd_opt(2022, 5, 21).unwrap());
    assert_eq!(c.blok_letters, "A");
    assert_eq!(c.minutes, 10);
    assert_eq!(c.format(), "vc-123-05.21.22-Blok-A10");
    assert!(GeneratedComment::parse("up-999-12.31.26-Blok-CD30").is_some());
    assert!(GeneratedComment::parse("vc-99-05.21.22-Blok-A10").is_none());
    assert!(GeneratedComment::parse("xx-123-05.21.22-Blok-A10").is_none());
    assert!(GeneratedComment::parse("vc-123-13.21.22-Blok-A10").is_none());
    assert!(GeneratedComment::parse("vc-123-05.21.22-Blok-10").is_none());
    assert!(GeneratedComment::parse("vc-123-05.21.22-Room-A10").is_none());
}

fn spec(mode: VoucherMode, count: usize) -> GenerateSpec {
    GenerateSpec {
        mode,
        profile: "10Menit".into(),
        minutes: 10,
        blok_letters: "A".into(),
        count,
        name_len: 6,
        date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    }
}

#[test]
fn vc_vouchers_share_name_and_password() {
    let v = generate_vouchers(
        &spec(VoucherMode::Vc, 50),
        &HashSet::new(),
        &mut Rng::new(7),
    )
    .unwrap();
    assert_eq!(v.len(), 50);
    let names: HashSet<&str> = v.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names.len(), 50);
    for x in &v {
        assert_eq!(x.name, x.password);
        assert_eq!(x.name.len(), 6);
        assert!(x.name.bytes().all(|b| NAME_CHARS.contains(&b)));
        assert_eq!(x.limit_uptime.as_deref(), Some("10m"));
        let c = GeneratedComment::parse(&x.comment).unwrap();
        assert_eq!(c.mode, VoucherMode::Vc);
        assert_eq!(c.blok_letters, "A");
        assert_eq!(c.minutes, 10);
        assert!(x.comment.ends_with("-11.21.26-Blok-A10"), "{}", x.comment);
        assert_eq!(
            normalize_blok(&x.comment, &no_aliases()).as_deref(),
            Some("BLOK-A")
        );
    }
    // one comment per batch
    assert_eq!(
        v.iter().map(|x| &x.comment).collect::<HashSet<_>>().len(),
        1
    );
}

#[test]
fn up_vouchers_have_a_separate_password() {
    let v = generate_vouchers(
        &spec(VoucherMode::Up, 20),
        &HashSet::new(),
        &mut Rng::new(9),
    )
    .unwrap();
    assert!(v.iter().all(|x| x.name != x.password));
    assert!(v[0].comment.starts_with("up-"));
}

#[test]
fn generation_avoids_existing_names_and_is_deterministic() {
    let first =
        generate_vouchers(&spec(VoucherMode::Vc, 5), &HashSet::new(), &mut Rng::new(1)).unwrap();
    let again =
        generate_vouchers(&spec(VoucherMode::Vc, 5), &HashSet::new(), &mut Rng::new(1)).unwrap();
    assert_eq!(first, again);
    let existing: HashSet<String> = first.iter().map(|v| v.name.clone()).collect();
    let other = generate_vouchers(&spec(VoucherMode::Vc, 5), &existing, &mut Rng::new(1)).unwrap();
    assert!(other.iter().all(|v| !existing.contains(&v.name)));
}

#[test]
fn bad_generate_requests_are_explained() {
    let e = generate_vouchers(&spec(VoucherMode::Vc, 0), &HashSet::new(), &mut Rng::new(1))
        .unwrap_err();
    assert!(e.to_string().contains("1 to 1000"));
    let mut s = spec(VoucherMode::Vc, 1);
    s.name_len = 2;
    assert!(matches!(
        generate_vouchers(&s, &HashSet::new(), &mut Rng::new(1)),
        Err(GenerateError::NameLen(2))
    ));
    let mut s = spec(VoucherMode::Vc, 1);
    s.blok_letters = "a1".into();
    assert!(matches!(
        generate_vouchers(&s, &HashSet::new(), &mut Rng::new(1)),
        Err(GenerateError::Blok(_))
    ));
}

#[test]
fn blok_letters_from_cashier_input() {
    assert_eq!(blok_letters("a").as_deref(), Some("A"));
    assert_eq!(blok_letters("BLOK-C").as_deref(), Some("C"));
    assert_eq!(blok_letters("blok_d10").as_deref(), Some("D"));
    assert_eq!(blok_letters("Blok-A10").as_deref(), Some("A"));
    assert_eq!(blok_letters("10"), None);
    assert_eq!(blok_letters("A-B"), None);
    assert_eq!(blok_letters(""), None);
}

#[test]
fn user_names_with_protocol_bytes_are_refused() {
    assert!(check_user_name("abc123").is_ok());
    for bad in ["a=b", "a\0b", "a\nb", "", &"x".repeat(65)] {
        let e = check_user_name(bad).unwrap_err();
        assert!(!e.is_empty());
    }
    assert!(check_user_name("a=b").unwrap_err().contains("'='"));
}

// ----- sales records (§2) ---------------------------------------------------------------------

#[test]
fn sale_record_nine_fields() {
    let raw = "nov/21/2026-|-10:01:02-|-k3x9a2-|-5000-|-10.5.50.12-|-AA:BB:CC:DD:EE:FF-|-1d-|-10Menit-|-Blok-A10";
    let r = parse_sale_record(raw).unwrap();
    assert_eq!(r.raw, raw);
    assert_eq!(r.sale_date, NaiveDate::from_ymd_opt(2026, 11, 21));
    assert_eq!(r.raw_time, "10:01:02");
    assert_eq!(r.username, "k3x9a2");
    assert_eq!(r.price, 5000);
    assert_eq!(r.ip, "10.5.50.12");
    assert_eq!(r.mac, "AA:BB:CC:DD:EE:FF");
    assert_eq!(r.validity, "1d");
    assert_eq!(r.profile, "10Menit");
    assert_eq!(r.blok_info, "Blok-A10");
}

#[test]
fn sale_record_short_separator_and_short_records() {
    let r = parse_sale_record("2026-11-21-|10:00:00-|abc-|20000").unwrap();
    assert_eq!(r.username, "abc");
    assert_eq!(r.price, 20000);
    assert_eq!(r.profile, "");
    assert_eq!(
        parse_sale_record("2026-11-21-|-10:00-|-abc"),
        Err(SaleRecordError::TooFewFields(3))
    );
    assert_eq!(
        parse_sale_record("not a record"),
        Err(SaleRecordError::TooFewFields(1))
    );
    assert_eq!(
        parse_sale_record("a-|-b-|- -|-5000"),
        Err(SaleRecordError::NoUser)
    );
    let r = parse_sale_record("x-|-y-|-u-|-lima ribu").unwrap();
    assert_eq!(r.price, 0);
    assert_eq!(r.sale_date, None);
    assert!(SaleRecordError::TooFewFields(2)
        .to_string()
        .contains("at least 4"));
}

#[test]
fn format_then_parse_is_identity() {
    let raw = format_sale_record(
        "nov/21/2026",
        "10:00:00",
        "abc",
        template_price("30Menit"),
        "10.0.0.2",
        "00:11:22:33:44:55",
        "1d",
        "30Menit",
        "2026-11-21 10:30:00 | Blok-C30 | IP:x",
    );
    let r = parse_sale_record(&raw).unwrap();
    assert_eq!(r.price, 20000);
    assert_eq!(r.blok_info, "Blok-C30");
    assert_eq!(template_price("10Menit"), 5000);
    assert_eq!(template_price("1Jam"), 5000);
    assert_eq!(blok_info_of("no blok"), "");
}

#[test]
fn price_resolution_order() {
    let mut pb = PriceBook {
        price_10: 5000,
        price_30: 20000,
        ..Default::default()
    };
    pb.profile_prices.insert("1jam".into(), 10000);
    assert_eq!(pb.resolve(7000, "10Menit"), 7000);
    assert_eq!(pb.resolve(0, "1 Jam"), 10000);
    assert_eq!(pb.resolve(0, "30Menit"), 20000);
    assert_eq!(pb.resolve(0, "10 menit"), 5000);
    assert_eq!(pb.resolve(0, "default"), 0);
}

// ----- worked scenarios (§11) -----------------------------------------------------------------

fn prices() -> PriceBook {
    PriceBook {
        price_10: 5000,
        price_30: 20000,
        ..Default::default()
    }
}

/// A sale as the on-login script writes it, classified against the user's comment now.
fn sale(
    user: &str,
    date: &str,
    time: &str,
    profile: &str,
    comment_now: &str,
) -> Result<Sale, SaleSkip> {
    let raw = format_sale_record(
        date,
        time,
        user,
        template_price(profile),
        "10.5.50.2",
        "AA:BB:CC:00:00:01",
        "1d",
        profile,
        "2026-11-21 10:00:00 | Blok-A10",
    );
    classify_sale(
        parse_sale_record(&raw).unwrap(),
        comment_now,
        &no_aliases(),
        &prices(),
    )
}

fn totals(sales: Vec<Result<Sale, SaleSkip>>) -> SalesTotals {
    let (kept, _) = dedup_sales(sales.into_iter().filter_map(Result::ok).collect());
    sales_totals(&kept)
}

fn rp(n: i64) -> Decimal {
    Decimal::from(n)
}

const D: &str = "nov/21/2026";
const USED: &str = "2026-11-21 10:00:00 | Blok-A10 | IP:10.5.50.2 | MAC:AA:BB";

#[test]
fn scenario_1_normal_sales() {
    let t = totals(vec![
        sale("a1", D, "10:00:00", "10Menit", USED),
        sale("a2", D, "10:01:00", "10Menit", USED),
        sale("a3", D, "10:02:00", "10Menit", USED),
        sale("b1", D, "10:03:00", "30Menit", USED),
    ]);
    assert_eq!((t.gross, t.net, t.laku), (rp(35_000), rp(35_000), 4));
}

fn five_v10_one_rusak() -> Vec<Result<Sale, SaleSkip>> {
    let mut v: Vec<_> = (1..=4)
        .map(|i| sale(&format!("a{i}"), D, "10:00:00", "10Menit", USED))
        .collect();
    v.push(sale(
        "a5",
        D,
        "10:00:00",
        "10Menit",
        &format!("Audit: RUSAK 21/11/26 {USED}"),
    ));
    v
}

#[test]
fn scenario_2_one_rusak() {
    let t = totals(five_v10_one_rusak());
    assert_eq!(
        (t.gross, t.net, t.laku, t.loss),
        (rp(25_000), rp(20_000), 4, rp(5_000))
    );
}

#[test]
fn scenario_3_retur_issued_but_unused_changes_nothing() {
    // The replacement has no sale row until it logs in.
    let t = totals(five_v10_one_rusak());
    assert_eq!((t.gross, t.net, t.laku), (rp(25_000), rp(20_000), 4));
}

#[test]
fn scenario_4_retur_logs_in_recommended_model() {
    let mut v = five_v10_one_rusak();
    v.push(sale(
        "r9x8y7",
        D,
        "11:00:00",
        "10Menit",
        "Blok-A10 (Retur) Valid: Retur Ref:vc-a5 | Profile:10Menit",
    ));
    let t = totals(v);
    // §12.2: gross +P once, net +P, laku +1 for the pair.
    assert_eq!((t.gross, t.net, t.laku), (rp(25_000), rp(25_000), 5));
}

#[test]
fn scenario_5_invalid_comment() {
    let t = totals(vec![
        sale("a1", D, "10:00:00", "10Menit", USED),
        sale("a2", D, "10:00:00", "10Menit", &format!("{USED} invalid")),
    ]);
    assert_eq!((t.gross, t.net, t.laku), (rp(5_000), rp(5_000), 1));
}

#[test]
fn scenario_6_vip_is_not_ingested() {
    let s = sale(
        "v1",
        D,
        "10:00:00",
        "10Menit",
        "2026-11-21 10:00:00 | Blok-A10 | VIP",
    );
    assert_eq!(s, Err(SaleSkip::Vip));
    let t = totals(vec![s]);
    assert_eq!((t.gross, t.net, t.laku), (rp(0), rp(0), 0));
}

#[test]
fn scenario_7_three_logins_one_sale() {
    let sales = vec![
        sale("a1", D, "10:00:00", "10Menit", USED),
        sale("a1", D, "10:20:00", "10Menit", USED),
        sale("a1", D, "10:40:00", "10Menit", USED),
    ];
    let (kept, dropped) = dedup_sales(sales.into_iter().map(Result::unwrap).collect());
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].record.raw_time, "10:00:00");
    assert!(dropped
        .iter()
        .all(|(_, why)| *why == SaleSkip::DuplicateUserDate));
    let t = sales_totals(&kept);
    assert_eq!((t.gross, t.net, t.laku), (rp(5_000), rp(5_000), 1));
    // A relogin after midnight is a new router date, so a second sale (§12.7).
    let (kept, _) = dedup_sales(vec![
        sale("a1", D, "23:55:00", "10Menit", USED).unwrap(),
        sale("a1", "nov/22/2026", "00:01:00", "10Menit", USED).unwrap(),
    ]);
    assert_eq!(kept.len(), 2);
}

#[test]
fn scenario_8_refund_is_a_rusak_sale() {
    let mut v: Vec<_> = (1..=4)
        .map(|i| sale(&format!("a{i}"), D, "10:00:00", "10Menit", USED))
        .collect();
    v.push(sale(
        "a5",
        D,
        "10:00:00",
        "10Menit",
        &format!("Audit: RUSAK 21/11/26 Retur Request: tidak bisa konek {USED}"),
    ));
    let t = totals(v);
    assert_eq!(
        (t.gross, t.net, t.laku, t.loss),
        (rp(25_000), rp(20_000), 4, rp(5_000))
    );
}

#[test]
fn identical_raw_records_count_once() {
    let a = sale("a1", D, "10:00:00", "10Menit", USED).unwrap();
    let (kept, dropped) = dedup_sales(vec![a.clone(), a]);
    assert_eq!(kept.len(), 1);
    assert_eq!(dropped[0].1, SaleSkip::DuplicateRaw);
}

#[test]
fn blokless_records_are_skipped_unless_flagged() {
    let raw = "nov/21/2026-|-10:00:00-|-x1-|-5000-|-ip-|-mac-|-1d-|-10Menit-|-";
    let r = parse_sale_record(raw).unwrap();
    assert_eq!(
        classify_sale(r.clone(), "tanpa keterangan", &no_aliases(), &prices()),
        Err(SaleSkip::NoBlok)
    );
    // the user's current comment can supply the blok
    assert_eq!(
        classify_sale(r.clone(), "Blok-C10", &no_aliases(), &prices())
            .unwrap()
            .blok,
        "BLOK-C"
    );
    let s = classify_sale(r, "Audit: RUSAK 1/1/26 x", &no_aliases(), &prices()).unwrap();
    assert_eq!(s.blok, "BLOK-UNKNOWN");
    assert_eq!(s.status, SaleStatus::Rusak);
}

#[test]
fn sale_status_precedence() {
    assert_eq!(SaleStatus::from_flags(true, true, true), SaleStatus::Retur);
    assert_eq!(SaleStatus::from_flags(false, true, true), SaleStatus::Rusak);
    assert_eq!(
        SaleStatus::from_flags(false, false, true),
        SaleStatus::Invalid
    );
    assert_eq!(
        SaleStatus::from_flags(false, false, false),
        SaleStatus::Normal
    );
    for s in [
        SaleStatus::Normal,
        SaleStatus::Rusak,
        SaleStatus::Retur,
        SaleStatus::Invalid,
    ] {
        assert_eq!(SaleStatus::parse(s.as_str()), Some(s));
    }
}

// ----- relogins -----------------------------------------------------------------------------

#[test]
fn relogins_count_distinct_events_after_the_first() {
    let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let ev = |u: &str, t: &str| LoginEvent {
        username: u.into(),
        date_key: d,
        login_time: t.into(),
    };
    let counts = relogin_counts(&[
        ev("a", "10:00:00"),
        ev("a", "10:20:00"),
        ev("a", "10:20:00"),
        ev("a", "10:40:00"),
        ev("b", "11:00:00"),
    ]);
    assert_eq!(counts["a"], 2);
    assert_eq!(counts["b"], 0);
    assert!(!counts.contains_key("c"));
}

#[test]
fn byte_formatting() {
    assert_eq!(format_bytes(812), "812 B");
    assert_eq!(format_bytes(3 * MIB + MIB / 10), "3.1 MB");
    assert_eq!(format_bytes(2048), "2.0 KB");
}

#[test]
fn words_match_whole_words_only() {
    assert!(has_word("a VIP b", "vip"));
    assert!(has_word("VIP", "vip"));
    assert!(has_word("x|vip|y", "vip"));
    assert!(!has_word("vipers", "vip"));
    assert!(!has_word("ÉVIPx", "vip"));
    assert!(has_word("é vip", "vip"));
}
