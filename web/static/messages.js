// What a court user reads when the hub refuses something: Chinese, chosen
// by the error's code and its details (the protocol's codes stay English).
const QUOTA = {
  annotations: "您的标注数量已达上限",
  annotation_bytes: "您的标注内容已达上限",
  evidence_items: "您提交的证据数量已达上限",
  evidence_bytes: "您提交的证据总大小已达上限",
};

// A sentence for a refusal the page knows how to explain, or null.
export function refusal(error) {
  if (!error) return null;
  if (error.limit === "rate" || error.code === "rate_limited") return "操作过于频繁，请稍后再试";
  if (error.quota) return `${QUOTA[error.quota] || "已达上限"}，如需继续请联系书记员`;
  return null;
}
