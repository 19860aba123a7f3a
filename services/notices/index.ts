// Notices: the view of notices and their follow-ups, the rules on follow-ups, search, and
// protected parties at rest. End-user surface first.
export { getNotice, projectNotice, checkNoticeRules, recomputeNotice, type NoticesContext } from "./view.ts";
export { searchNotices, queryTerms, textParts, noticeSearchTokens, foldText, valueTokens, phoneTokens, type NoticeSearch, type NoticeHit } from "./search.ts";
export {
  readProtected,
  auditEntryBytes,
  sealProtected,
  openProtected,
  DEFAULT_PROTECTED_READER_ROLES,
  PROTECTED_FIELD_NAMES,
  quotesProtected,
  type ProtectedFieldName,
  type ProtectedReadRequest,
  type ProtectedRead,
  type ProtectedReadAudit,
  type ProtectedReader,
  type ProtectedContext,
  type SealedProtected,
} from "./protect.ts";
export { noticeOf, NOTICE_KINDS, type NoticeBody, type NoticeKind } from "./body.ts";
export {
  NOTICES,
  NOTICE_EVENTS,
  NOTICE_COLLECTIONS,
  initNoticeViews,
  type NoticeViewDoc,
  type NoticeEventDoc,
  type NoticeVersion,
  type ThreadEntry,
  type PartnerResponseDoc,
} from "./collections.ts";
