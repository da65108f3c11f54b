//! The trust centre summary: what a firm publishes to its customers about its risk register
//! and its controlled documents, made only from records an owner approved for publication
//! and whose approval has not expired. Internal fields (a risk's title, description and
//! controls, anyone's name unless the record says to show its owner) never go into it.
//! As JSON and as a standalone HTML page that needs no JavaScript and no other file.

use crate::Date;
use crate::derive::Band;
use crate::model::*;
use crate::refs::references;
use html_escape::encode_text as text;
use serde::Serialize;

/// A published risk, as customers read it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedRisk {
    pub reference: String,
    pub category: String,
    /// "Low", "Medium", "High" or "Critical": the band of the residual score.
    pub residual_band: String,
    /// "Improving", "Stable" or "Deteriorating".
    pub direction: String,
    pub summary: String,
    pub owner: Option<String>,
}

/// A published document (a plan, policy, register or procedure).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedDocument {
    /// The document's identifier (CF-PLAN-002), or its reference when it has none.
    pub identifier: String,
    pub title: String,
    pub kind: String,
    pub version: String,
    pub owner: Option<String>,
    pub last_review: Option<Date>,
}

/// The whole summary, as of one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub firm: String,
    pub produced: Date,
    pub risks: Vec<PublishedRisk>,
    pub documents: Vec<PublishedDocument>,
}

fn owner_name(register: &Register, publication: &Publication, owner: &Option<Id>) -> Option<String> {
    let id = owner.as_ref().filter(|_| publication.show_owner)?;
    register.live::<Person>().find(|(p, _)| *p == id).map(|(_, person)| person.name.clone())
}

/// The summary as it stands on `today`: the risks (highest residual band first) and the
/// documents whose publication is current.
pub fn summary(register: &Register, today: Date) -> Summary {
    let refs = references::<Risk>(register);
    let mut risks: Vec<(Band, PublishedRisk)> = register
        .live::<Risk>()
        .filter(|(_, r)| r.status != RiskStatus::Closed && r.publication.current(today))
        .filter(|(_, r)| !r.publication.summary.trim().is_empty())
        .map(|(id, r)| {
            let band = r.band();
            let published = PublishedRisk {
                reference: refs.get(id).cloned().unwrap_or_default(),
                category: r.category.clone(),
                residual_band: band.label().to_string(),
                direction: r.direction.label().to_string(),
                summary: r.publication.summary.trim().to_string(),
                owner: owner_name(register, &r.publication, &r.owner),
            };
            (band, published)
        })
        .collect();
    risks.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.reference.cmp(&y.reference)));
    let refs = references::<Plan>(register);
    let mut documents: Vec<PublishedDocument> = register
        .live::<Plan>()
        .filter(|(_, p)| p.publication.current(today))
        .map(|(id, p)| PublishedDocument {
            identifier: if p.code.trim().is_empty() {
                refs.get(id).cloned().unwrap_or_default()
            } else {
                p.code.clone()
            },
            title: if p.publication.summary.trim().is_empty() {
                p.title.clone()
            } else {
                p.publication.summary.clone()
            },
            kind: p.kind.label().to_string(),
            version: p.version.clone(),
            owner: owner_name(register, &p.publication, &p.owner),
            last_review: p.last_reviewed,
        })
        .collect();
    documents.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    let risks = risks.into_iter().map(|(_, r)| r).collect();
    Summary { firm: register.name.clone(), produced: today, risks, documents }
}

/// The summary as a page of its own: valid HTML, styled inline, no script, nothing fetched.
pub fn html(summary: &Summary) -> String {
    let firm = text(&summary.firm);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{firm}: risk and document summary</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }}\n\
         table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}\n\
         th, td {{ text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }}\n\
         caption {{ text-align: left; font-weight: 600; padding: 0.4rem 0; }}\n\
         </style>\n</head>\n<body>\n<main>\n<h1>{firm}</h1>\n\
         <p>How we manage risk to the service we provide, and the documents that govern it. \
         Produced on {produced}.</p>\n",
        produced = summary.produced,
    );
    let risks = summary.risks.iter().map(|r| {
        let owner = r.owner.clone().unwrap_or_default();
        vec![
            r.reference.clone(),
            r.category.clone(),
            r.residual_band.clone(),
            r.direction.clone(),
            r.summary.clone(),
            owner,
        ]
    });
    let headings = ["Reference", "Category", "Residual risk", "Direction", "Summary", "Owner"];
    table(&mut page, "Risks", &headings, risks.collect());
    let documents = summary.documents.iter().map(|d| {
        let (owner, reviewed) = (d.owner.clone().unwrap_or_default(), d.last_review.map(|d| d.to_string()));
        vec![
            d.identifier.clone(),
            d.title.clone(),
            d.kind.clone(),
            d.version.clone(),
            owner,
            reviewed.unwrap_or_default(),
        ]
    });
    let headings = ["Identifier", "Title", "Kind", "Version", "Owner", "Last reviewed"];
    table(&mut page, "Documents", &headings, documents.collect());
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// One table of the page, every cell escaped; a sentence instead when it has no rows.
fn table(page: &mut String, caption: &str, headings: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        page.push_str(&format!("<p>No {} are published at present.</p>\n", caption.to_lowercase()));
        return;
    }
    page.push_str(&format!("<table>\n<caption>{caption}</caption>\n<thead><tr>"));
    for heading in headings {
        page.push_str(&format!("<th scope=\"col\">{heading}</th>"));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        page.push_str("<tr>");
        for cell in row {
            page.push_str(&format!("<td>{}</td>", text(&cell)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

/// The summary as JSON, for a site that lays it out itself.
pub fn json(summary: &Summary) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    /// The sample with three risks marked for publication (one current, one expired, one
    /// approved but with no line for customers), a closed one, and two documents.
    fn published() -> (Register, Date) {
        let today = day("2026-12-03");
        let mut register = sample(today, 0).unwrap().register().unwrap();
        let current = Publication {
            summary: "Customer data is replicated across two UK regions".into(),
            approved: Some(day("2026-11-01")),
            approved_by: None,
            expires: Some(day("2027-11-01")),
            show_owner: false,
            ..Default::default()
        };
        let ids: Vec<Id> = register.risks.keys().cloned().collect();
        let risk = register.risks.get_mut(&ids[0]).unwrap();
        risk.publication = current.clone();
        risk.description = "INTERNAL-DESCRIPTION".into();
        risk.controls = "INTERNAL-CONTROLS".into();
        risk.title = "INTERNAL-TITLE".into();
        let expired = register.risks.get_mut(&ids[1]).unwrap();
        expired.publication =
            Publication { expires: Some(day("2026-11-30")), summary: "EXPIRED".into(), ..current.clone() };
        let unwritten = register.risks.get_mut(&ids[2]).unwrap();
        unwritten.publication = Publication { summary: " ".into(), ..current.clone() };
        let closed = register.risks.get_mut(&ids[3]).unwrap();
        closed.publication = Publication { summary: "CLOSED".into(), ..current.clone() };
        closed.status = RiskStatus::Closed;
        let plans: Vec<Id> = register.plans.keys().cloned().collect();
        register.plans.get_mut(&plans[0]).unwrap().publication =
            Publication { summary: String::new(), show_owner: true, ..current.clone() };
        register.plans.get_mut(&plans[1]).unwrap().publication =
            Publication { approved: None, summary: "NOT-APPROVED".into(), ..current };
        (register, today)
    }

    #[test]
    fn only_approved_current_records_appear_and_nothing_internal_leaks() {
        let (register, today) = published();
        let s = summary(&register, today);
        assert_eq!(s.risks.len(), 1, "{:?}", s.risks);
        assert_eq!(s.risks[0].summary, "Customer data is replicated across two UK regions");
        assert_eq!(s.risks[0].owner, None, "owners are named only when chosen");
        assert_eq!(s.documents.len(), 1);
        let plan = register.plans.values().next().unwrap();
        assert_eq!(s.documents[0].title, plan.title, "a document with no line of its own shows its title");
        assert!(s.documents[0].owner.is_some(), "this one names its owner");
        let page = html(&s);
        let data = json(&s).unwrap();
        for internal in
            ["INTERNAL-DESCRIPTION", "INTERNAL-CONTROLS", "INTERNAL-TITLE", "EXPIRED", "CLOSED", "NOT-APPROVED"]
        {
            assert!(!page.contains(internal) && !data.contains(internal), "{internal} leaked");
        }
        for person in register.people.values() {
            let owner = s.documents[0].owner.as_deref();
            if owner != Some(person.name.as_str()) {
                assert!(!page.contains(&person.name), "{} is named but was not chosen", person.name);
            }
        }
        assert!(page.contains("3 Dec 2026"), "the date it was produced");
        assert!(!page.contains("<script"));
        // The expired approval is a finding; the current ones are not.
        let now = crate::date::Now { today, seconds: 0 };
        let about: Vec<_> = crate::findings::findings(&register, now)
            .into_iter()
            .filter(|f| f.message.contains("trust centre summary"))
            .collect();
        assert_eq!(about.len(), 1, "{about:?}");
        assert!(about[0].message.contains("expired on 30 Nov 2026"), "{}", about[0].message);
    }

    #[test]
    fn the_page_is_valid_html_and_escapes_what_people_wrote() {
        use html5ever::tendril::TendrilSink;
        let (mut register, today) = published();
        let id = register.risks.keys().next().unwrap().clone();
        register.risks.get_mut(&id).unwrap().publication.summary = "Backups <b>tested</b> & \"restored\"".into();
        let page = html(&summary(&register, today));
        assert!(page.contains("Backups &lt;b&gt;tested&lt;/b&gt; &amp;"));
        let dom = html5ever::parse_document(markup5ever_rcdom::RcDom::default(), Default::default()).one(page.as_str());
        assert_eq!(dom.errors.borrow().len(), 0, "parse errors: {:?}", dom.errors.borrow());
        let broken =
            html5ever::parse_document(markup5ever_rcdom::RcDom::default(), Default::default()).one("<p></div>");
        assert!(!broken.errors.borrow().is_empty(), "the check does catch bad markup");
        // And an empty summary is still a page that says so.
        let empty = html(&Summary { firm: "Acme Ltd".into(), produced: today, risks: vec![], documents: vec![] });
        assert!(empty.contains("No risks are published at present."));
    }
}
