//! The enumerations of `imerit_ango.models.enums`, each carrying the official wire value.

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, case_insensitive = $ci:expr, { $($(#[$vmeta:meta])* $variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in the official declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value sent on the wire.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Error;

            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::error::Error> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| if $ci { v.as_str().eq_ignore_ascii_case(s) } else { v.as_str() == s })
                    .ok_or_else(|| $crate::error::Error::InvalidArgument(format!(
                        "{:?} is not a valid {}; expected one of {:?}",
                        s,
                        stringify!($name),
                        $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()
                    )))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let values: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                schemars::json_schema!({ "type": "string", "enum": values })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// Project metrics served by `get_metrics`.
    Metrics, case_insensitive = false, {
        /// Tasks per label stage group.
        LabelStageGroups => "LabelStageGroups",
        /// Time spent per task.
        TimePerTask => "TimePerTask",
        /// Annotation status counts.
        AnnotationStatus => "AnnotationStatus",
        /// Distribution of answers.
        AnswerDistribution => "AnswerDistribution",
        /// Consensus score ranges.
        ConsensusRanges => "ConsensusRanges",
        /// Asset sizes.
        AssetSize => "AssetSize",
    }
);

wire_enum!(
    /// A member's role in the organization (matched case-insensitively).
    OrganizationRole, case_insensitive = true, {
        /// A regular member.
        Member => "member",
        /// An administrator.
        Admin => "admin",
    }
);

wire_enum!(
    /// A member's role in a project (matched case-insensitively).
    ProjectRole, case_insensitive = true, {
        /// Manages the project.
        Manager => "Manager",
        /// Labels tasks.
        Labeler => "Labeler",
        /// Reviews tasks.
        Reviewer => "Reviewer",
        /// Leads labelers.
        Lead => "Lead",
    }
);

wire_enum!(
    /// A cloud storage provider.
    StorageProvider, case_insensitive = false, {
        /// Amazon S3.
        Aws => "AWS",
        /// Google Cloud Storage.
        Gcp => "GCP",
        /// Azure Blob Storage.
        Azure => "AZURE",
    }
);

wire_enum!(
    /// An LLM provider.
    LlmProvider, case_insensitive = false, {
        /// OpenAI.
        OpenAi => "openai",
        /// OpenRouter.
        OpenRouter => "openrouter",
    }
);

wire_enum!(
    /// What a storage file upload is for (the `type` of `getUploadUrl`).
    StorageFileType, case_insensitive = false, {
        /// A brush mask (PNG).
        Brush => "brushes",
        /// A medical brush mask (NRRD).
        MedicalBrush => "medicalBrushes",
        /// An asset file.
        Asset => "assets",
        /// An export archive.
        Export => "exports",
        /// Project instructions.
        Instruction => "instructions",
    }
);

wire_enum!(
    /// What an export contains.
    ExportType, case_insensitive = false, {
        /// Tasks with their annotations.
        Task => "task",
        /// Issues.
        Issue => "issue",
    }
);

wire_enum!(
    /// The export file format.
    ExportFormat, case_insensitive = false, {
        /// One JSON array.
        Json => "json",
        /// One JSON object per line.
        Ndjson => "ndjson",
    }
);

wire_enum!(
    /// A task's type (`TaskTypes` and `TaskType` in the official SDK).
    TaskType, case_insensitive = false, {
        /// A consensus task.
        Consensus => "consensus",
        /// A regular task.
        Default => "default",
        /// A benchmark task.
        Benchmark => "benchmark",
    }
);

wire_enum!(
    /// A project's type.
    ProjectType, case_insensitive = false, {
        /// A regular Ango project.
        Ango => "ango",
        /// A point-cloud (PCT) project.
        Pct => "pct",
        /// An iframe project.
        IFrame => "iframe",
    }
);

wire_enum!(
    /// A review decision.
    ReviewStatus, case_insensitive = false, {
        /// Accepted.
        Accepted => "Accepted",
        /// Rejected.
        Rejected => "Rejected",
        /// Not reviewed yet.
        Todo => "Todo",
        /// Fixed after a rejection.
        Fixed => "Fixed",
    }
);

wire_enum!(
    /// PCT task states.
    TaskStatus, case_insensitive = false, {
        /// Ready.
        Ready => "READY",
        /// Waiting for a PCT requeue.
        PctRequeueWaiting => "PCT_REQUEUE_WAITING",
        /// Waiting for a PCT submit.
        PctSubmitWaiting => "PCT_SUBMIT_WAITING",
    }
);

wire_enum!(
    /// A sort direction.
    SortOrder, case_insensitive = false, {
        /// Ascending.
        Asc => "asc",
        /// Descending.
        Desc => "desc",
    }
);

wire_enum!(
    /// A workflow stage type.
    StageType, case_insensitive = false, {
        /// Where tasks enter.
        Start => "Start",
        /// Labeling.
        Label => "Label",
        /// Review.
        Review => "Review",
        /// Conditional routing.
        Logic => "Logic",
        /// A plugin.
        Plugin => "Plugin",
        /// A webhook.
        Webhook => "Webhook",
        /// Done.
        Complete => "Complete",
        /// Archived.
        Archive => "Archive",
        /// Consensus.
        Consensus => "Consensus",
        /// On hold.
        Hold => "Hold",
    }
);

wire_enum!(
    /// A medical imaging plane, for issues on medical assets.
    MedicalPlane, case_insensitive = false, {
        /// Axial.
        Axial => "A",
        /// Sagittal.
        Sagittal => "S",
        /// Coronal.
        Coronal => "C",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_roles_ignore_case() {
        for m in Metrics::ALL {
            assert_eq!(m.as_str().parse::<Metrics>().unwrap(), *m);
        }
        assert_eq!(
            "ADMIN".parse::<OrganizationRole>().unwrap(),
            OrganizationRole::Admin
        );
        assert_eq!(
            "labeler".parse::<ProjectRole>().unwrap(),
            ProjectRole::Labeler
        );
        assert!("Labeler".parse::<ExportFormat>().is_err());
        assert_eq!(
            serde_json::to_string(&ReviewStatus::Accepted).unwrap(),
            "\"Accepted\""
        );
        assert_eq!(MedicalPlane::Coronal.to_string(), "C");
    }
}
