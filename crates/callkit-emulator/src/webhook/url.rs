//! The webhook request line: `{Url}?SdkAppid=&CallbackCommand=&contenttype=json&ClientIP=&OptPlatform=[&Sign=&RequestTime=]`.

use super::sign::sign;

/// Who triggered the event, as Tencent's `OptPlatform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptPlatform {
    /// A v4 REST command.
    RestApi,
    /// The control API, standing in for a web client.
    Web,
}

impl OptPlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestApi => "RESTAPI",
            Self::Web => "Web",
        }
    }
}

pub fn webhook_url(
    base: &str,
    sdkappid: u64,
    command: &str,
    platform: OptPlatform,
    token: Option<(&str, u64)>,
) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{base}{sep}SdkAppid={sdkappid}&CallbackCommand={command}&contenttype=json&ClientIP=127.0.0.1&OptPlatform={}",
        platform.as_str()
    );
    if let Some((token, request_time)) = token {
        url.push_str("&Sign=");
        url.push_str(&sign(token, request_time));
        url.push_str("&RequestTime=");
        url.push_str(&request_time.to_string());
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_query() {
        assert_eq!(
            webhook_url(
                "http://h/cb",
                1400000000,
                "Call.CallbackAfterEndCall",
                OptPlatform::RestApi,
                None
            ),
            "http://h/cb?SdkAppid=1400000000&CallbackCommand=Call.CallbackAfterEndCall&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI"
        );
    }

    #[test]
    fn keeps_an_existing_query_and_signs() {
        let url = webhook_url(
            "http://h/cb?x=1",
            7,
            "Call.CallbackAfterStartCall",
            OptPlatform::Web,
            Some(("xxxxyyyy", 1669872112)),
        );
        assert!(url.starts_with("http://h/cb?x=1&SdkAppid=7&"), "{url}");
        assert!(url.contains("&OptPlatform=Web&"), "{url}");
        assert!(url.ends_with(
            "&Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061&RequestTime=1669872112"
        ));
    }
}
