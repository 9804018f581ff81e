-- 0024_wechat_web: a reader who signs in on the web through WeChat's
-- authorize page (snsapi_base) is known by an openid of the *official
-- account*, never the mini-program's wechat_openid (subscription messages
-- go to that one). It gets its own column; the unionid (0001, 0012) joins
-- the two when WeChat gives it. Such a reader may have no other identity.
ALTER TABLE readers ADD COLUMN wechat_web_openid TEXT
    CONSTRAINT readers_one_per_wechat_web_openid UNIQUE;
ALTER TABLE readers DROP CONSTRAINT readers_have_an_identity;
ALTER TABLE readers ADD CONSTRAINT readers_have_an_identity
    CHECK (alipay_user_id IS NOT NULL OR wechat_openid IS NOT NULL
        OR wechat_web_openid IS NOT NULL OR card_number IS NOT NULL);
