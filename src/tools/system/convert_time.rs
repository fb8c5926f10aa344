//! `convert_time`: a wall-clock time in one zone as the same instant in another.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::current_time::{ZonedTime, describe};
use super::zone;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "convert translate between zones from one zone to another meeting offset difference";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertTimeArgs {
    /// "HH:MM" (today in the source zone), a date and time "2024-05-01T14:30", or an RFC 3339 timestamp.
    pub time: String,
    /// IANA zone the time is in (default: the machine's zone). Ignored for RFC 3339 input with an offset.
    pub from_timezone: Option<String>,
    /// IANA zone to convert to.
    pub to_timezone: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConvertTimeOutput {
    pub source: ZonedTime,
    pub target: ZonedTime,
    /// Target offset minus source offset, e.g. "+9h" or "-5h30m".
    pub time_difference: String,
}

pub fn convert_time(
    args: &ConvertTimeArgs,
    now: jiff::Timestamp,
) -> Result<ConvertTimeOutput, ToolError> {
    let from = zone(args.from_timezone.as_deref())?;
    let to = zone(Some(&args.to_timezone))?;
    let input = args.time.trim();
    let source: jiff::Zoned = if let Ok(ts) = input.parse::<jiff::Timestamp>() {
        ts.to_zoned(from)
    } else if let Ok(dt) = input.parse::<jiff::civil::DateTime>() {
        dt.to_zoned(from).map_err(|e| {
            ToolError::invalid(format!("`{input}` does not exist in that zone: {e}"))
        })?
    } else if let Ok(t) = input.parse::<jiff::civil::Time>() {
        let today = now.to_zoned(from.clone()).date();
        today.to_datetime(t).to_zoned(from).map_err(|e| {
            ToolError::invalid(format!("`{input}` does not exist today in that zone: {e}"))
        })?
    } else {
        return Err(ToolError::invalid(format!(
            "`{input}` is not a time: use \"14:30\", \"2024-05-01T14:30\" or an RFC 3339 timestamp"
        )));
    };
    let target = source.with_time_zone(to);
    let diff = target.offset().seconds() - source.offset().seconds();
    let (sign, abs) = if diff < 0 { ('-', -diff) } else { ('+', diff) };
    let (h, m) = (abs / 3600, (abs % 3600) / 60);
    let time_difference = if m == 0 {
        format!("{sign}{h}h")
    } else {
        format!("{sign}{h}h{m}m")
    };
    Ok(ConvertTimeOutput {
        source: describe(&source),
        target: describe(&target),
        time_difference,
    })
}

#[tool_router(router = convert_time_router, vis = "pub(crate)")]
impl Switchboard {
    /// Convert a time between time zones (IANA names); returns both sides and the offset difference.
    #[tool(annotations(
        title = "Convert time between zones",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn convert_time(
        &self,
        Parameters(args): Parameters<ConvertTimeArgs>,
    ) -> Result<Json<ConvertTimeOutput>, ToolError> {
        convert_time(&args, jiff::Timestamp::now()).map(Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(time: &str, from: &str, to: &str) -> ConvertTimeArgs {
        ConvertTimeArgs {
            time: time.into(),
            from_timezone: Some(from.into()),
            to_timezone: to.into(),
        }
    }

    #[test]
    fn converts_across_zones_and_dst() {
        let now: jiff::Timestamp = "2024-01-15T12:00:00Z".parse().unwrap();
        let out = convert_time(&args("2024-01-15T14:30", "UTC", "Asia/Tokyo"), now).unwrap();
        assert_eq!(out.target.datetime, "2024-01-15T23:30:00+09:00");
        assert_eq!(out.time_difference, "+9h");
        let out = convert_time(&args("09:00", "Europe/London", "America/New_York"), now).unwrap();
        assert_eq!(out.source.datetime, "2024-01-15T09:00:00+00:00");
        assert_eq!(out.target.datetime, "2024-01-15T04:00:00-05:00");
        assert_eq!(out.time_difference, "-5h");
        let out = convert_time(
            &args("2024-07-01T12:00:00Z", "Asia/Tokyo", "Asia/Kolkata"),
            now,
        )
        .unwrap();
        assert_eq!(out.target.datetime, "2024-07-01T17:30:00+05:30");
        assert_eq!(out.time_difference, "-3h30m");
        assert!(
            convert_time(&args("noon", "UTC", "UTC"), now)
                .unwrap_err()
                .to_string()
                .contains("14:30")
        );
    }
}
