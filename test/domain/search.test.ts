/** Search normalisation: the tokens stored for a notice and the terms a query must match. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { MessageSchema } from "../../gen/liaison/v1/message_pb.ts";
import { foldText, noticeOf, noticeSearchTokens, queryTerms } from "../../services/notices/index.ts";
import { fraudBody, message, traffickingBody, wantedBody } from "./builders.ts";

const tokensOf = (body: Parameters<typeof message>[1]) => noticeSearchTokens(noticeOf(create(MessageSchema, message({ sender: "VN-MPS", recipients: ["CN-MPS"] }, body)))!);
const matches = (tokens: string[], query: string) => {
  const terms = queryTerms(query);
  return terms.length > 0 && terms.every((alternatives) => alternatives.some((a) => tokens.includes(a)));
};

describe("search normalisation", () => {
  it("strips Vietnamese diacritics and folds đ to d", () => {
    assert.equal(foldText("Nguyễn Văn Đức"), "nguyen van duc");
    assert.equal(foldText("QĐ-123/2026"), "qd-123/2026");
  });

  it("keeps the marks of non-Latin scripts such as Khmer", () => {
    assert.equal(foldText("ក្រសួងមហាផ្ទៃ"), "ក្រសួងមហាផ្ទៃ".normalize("NFC"));
  });

  it("finds 'Nguyễn Văn A' from 'Nguyen Van A', 'nguyen van a' and 'NguyenVanA'", () => {
    const tokens = tokensOf(wantedBody("VN-MPS/WANTED/2026/0001"));
    for (const q of ["Nguyen Van A", "nguyen van a", "NguyenVanA", "Nguyễn Văn A"]) assert.ok(matches(tokens, q), q);
    assert.ok(!matches(tokens, "Nguyen Van B"));
  });

  it("finds the notice from its pinyin with or without tones, and from its Hanzi in part", () => {
    const tokens = tokensOf(wantedBody("VN-MPS/WANTED/2026/0001"));
    for (const q of ["Ruan Wenjia", "ruǎn wénjiǎ", "阮文甲", "文甲"]) assert.ok(matches(tokens, q), q);
  });

  it("finds document numbers typed with or without separators", () => {
    const tokens = tokensOf(wantedBody("VN-MPS/WANTED/2026/0001"));
    for (const q of ["C1234567", "c1234567", "QĐ-123/2026", "qd1232026"]) assert.ok(matches(tokens, q), q);
  });

  it("matches phone numbers in international and national form", () => {
    const tokens = tokensOf(fraudBody("VN-MPS/FRAUD/2026/0001"));
    for (const q of ["+84901234567", "+84 90 123 4567", "0901234567", "84-90-123-4567"]) assert.ok(matches(tokens, q), q);
    assert.ok(!matches(tokens, "0901234568"));
  });

  it("finds crypto addresses and account holders across diacritics", () => {
    const tokens = tokensOf(fraudBody("VN-MPS/FRAUD/2026/0001"));
    assert.ok(matches(tokens, "TXyZ9exampleAddr0000000000000000"));
    assert.ok(matches(tokens, "dang van duc"));
  });

  it("never indexes victims or informants", () => {
    const tokens = tokensOf(traffickingBody("VN-MPS/THB/2026/0001"));
    assert.ok(!tokens.includes("victim"), "victim names are not tokens");
    const withInformant = tokensOf(wantedBody("VN-MPS/WANTED/2026/0002", true));
    assert.ok(!withInformant.includes("informant") && !withInformant.includes("tran"), "informant names are not tokens");
  });
});
