-- 0012_wechat_unionid: a follower of the official account has an openid of
-- that account, never the mini-program's; the unionid (cgi-bin/user/info)
-- is what finds the reader who signed in with the mini-program.
ALTER TABLE wechat_followers ADD COLUMN unionid TEXT;
CREATE INDEX wechat_followers_by_unionid ON wechat_followers (unionid);
