// What a court user reads when something fails: Chinese, chosen by the
// error's code, its details and what the user was doing. The protocol's
// codes and messages stay English (for programs and the hub's log); no
// English text from the hub is ever shown.
const QUOTA = {
  annotations: "您的标注数量已达上限",
  annotation_bytes: "您的标注内容已达上限",
  evidence_items: "您提交的证据数量已达上限",
  evidence_bytes: "您提交的证据总大小已达上限",
};

// A refusal by code, whatever was being done.
const CODES = {
  forbidden: "您没有权限进行此操作",
  unauthorized: "邀请链接无效或已失效，请向法院索取新的链接",
  locked: "笔录已锁定，不能再修改",
  conflict: "内容已被他人改动，请核对后重试",
  not_found: "找不到该内容，可能已被删除或改动",
  invalid: "内容不符合要求，未能执行",
  too_large: "内容过长或文件过大",
  unavailable: "庭审暂时无法访问，请稍后再试",
  rate_limited: "操作过于频繁，请稍后再试",
  timeout: "网络太慢，请求超时，请重试",
  insufficient_storage: "服务器存储空间不足，请联系法院技术人员",
};

// Where the action says more than the code alone.
const ACTIONS = {
  upload: {
    invalid: "证据须为照片（JPEG、PNG、WebP）或 PDF 文件",
    too_large: "文件过大：每份证据不能超过 20 MB",
    forbidden: "您现在不能提交证据",
  },
  terms: {
    invalid: "每个术语须为 2 至 20 个汉字，每行一个",
    too_large: "术语最多 1000 个",
    forbidden: "您没有权限修改识别术语",
  },
  edit: {
    conflict: "此段已被他人修改，请核对后重试",
    invalid: "修改未执行：此段可能已被删除，或内容为空",
    too_large: "一段最多 5000 字",
  },
  annotate: {
    invalid: "标注未保存：所选文字已改动，请重新选择",
    too_large: "批注最多 2000 字",
  },
  sign: {
    conflict: "您已经签过名",
    invalid: "笔录锁定后才能签名",
  },
  control: {
    conflict: "庭审状态已变化，请按当前状态操作",
  },
  record: {
    invalid: "请先输入发言内容",
    too_large: "一段最多 5000 字，请分段记录",
  },
};

const MEDIA = {
  NotAllowedError: "未获准使用麦克风或摄像头：请在浏览器地址栏旁允许本页使用",
  NotFoundError: "未找到麦克风或摄像头，请检查设备连接",
  NotReadableError: "麦克风或摄像头正被其他程序占用",
  OverconstrainedError: "所选设备不可用，请换一个设备",
  SecurityError: "浏览器不允许本页使用麦克风或摄像头",
};

// A sentence for a refusal by the hub, for the user's action (or none).
export function explain(error, action) {
  if (!error) return CODES.invalid;
  if (error.limit === "rate" || error.code === "rate_limited") return CODES.rate_limited;
  if (error.quota) return `${QUOTA[error.quota] || "已达上限"}，如需继续请联系书记员`;
  const specific = ACTIONS[action] && ACTIONS[action][error.code];
  return specific || CODES[error.code] || "操作未能执行，请重试";
}

// The old name, for a refusal the page knows how to explain whatever the action.
export function refusal(error) {
  if (!error) return null;
  if (error.limit === "rate" || error.code === "rate_limited" || error.quota) return explain(error);
  return null;
}

// Why the microphone or camera could not be used. getUserMedia exists only
// on pages opened over HTTPS (or on this machine itself).
export function mediaTrouble(err) {
  if (!window.isSecureContext || !navigator.mediaDevices) {
    return "本页须通过 HTTPS 安全连接打开才能使用麦克风和摄像头，请使用法院提供的 https:// 链接";
  }
  return MEDIA[err && err.name] || "无法使用麦克风或摄像头，请检查设备后重试";
}

// An HTTP answer's error as a sentence (the body may be missing or not JSON).
export async function httpTrouble(response, action) {
  let error = null;
  try { error = (await response.json()).error; } catch { /* no JSON body */ }
  if (!error) {
    const code = { 400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 408: "timeout",
      413: "too_large", 429: "rate_limited", 503: "unavailable", 507: "insufficient_storage" }[response.status];
    error = { code };
  }
  return explain(error, action);
}
