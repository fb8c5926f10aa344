//! `current_time`: the time now in a time zone (IANA name, default the machine's own).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{zone, zone_name};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "now date today clock day of week weekday timestamp current local utc time in a city";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrentTimeArgs {
    /// IANA time zone, e.g. "Europe/Paris" or "UTC" (default: the machine's own zone).
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ZonedTime {
    pub timezone: String,
    /// ISO 8601 / RFC 3339 with offset, e.g. "2026-11-22T09:30:00+01:00".
    pub datetime: String,
    /// UTC offset, e.g. "+01:00".
    pub offset: String,
    pub day_of_week: String,
    pub is_dst: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CurrentTimeOutput {
    #[serde(flatten)]
    pub time: ZonedTime,
    /// Seconds since 1970-01-01 UTC.
    pub unix_seconds: i64,
}

pub(crate) fn describe(z: &jiff::Zoned) -> ZonedTime {
    let tz = z.time_zone();
    ZonedTime {
        timezone: zone_name(tz),
        datetime: z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        offset: z.offset().to_string(),
        day_of_week: z.strftime("%A").to_string(),
        is_dst: tz.to_offset_info(z.timestamp()).dst().is_dst(),
    }
}

pub fn current_time(
    args: &CurrentTimeArgs,
    now: jiff::Timestamp,
) -> Result<CurrentTimeOutput, ToolError> {
    let tz = zone(args.timezone.as_deref())?;
    let z = now.to_zoned(tz);
    Ok(CurrentTimeOutput {
        time: describe(&z),
        unix_seconds: now.as_second(),
    })
}

#[tool_router(router = current_time_router, vis = "pub(crate)")]
impl Switchboard {
    /// The current date and time in a time zone (default the machine's), with offset and weekday.
    #[tool(annotations(
        title = "Current time",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn current_time(
        &self,
        Parameters(args): Parameters<CurrentTimeArgs>,
    ) -> Result<Json<CurrentTimeOutput>, ToolError> {
        current_time(&args, jiff::Timestamp::now()).map(Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_instant_in_two_zones() {
        let t: jiff::Timestamp = "2024-07-01T12:00:00Z".parse().unwrap();
        let out = current_time(
            &CurrentTimeArgs {
                timezone: Some("America/New_York".into()),
            },
            t,
        )
        .unwrap();
        assert_eq!(out.time.datetime, "2024-07-01T08:00:00-04:00");
        assert!(out.time.is_dst);
        assert_eq!(out.time.day_of_week, "Monday");
        let out = current_time(
            &CurrentTimeArgs {
                timezone: Some("UTC".into()),
            },
            t,
        )
        .unwrap();
        assert_eq!(out.time.datetime, "2024-07-01T12:00:00+00:00");
        assert_eq!(out.unix_seconds, 1_719_835_200);
        let err = current_time(
            &CurrentTimeArgs {
                timezone: Some("Mars/Olympus".into()),
            },
            t,
        )
        .unwrap_err();
        assert!(err.to_string().contains("IANA"));
    }
}
