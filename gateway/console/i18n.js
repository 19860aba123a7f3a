// Labels of the console in English, French, Vietnamese and Chinese; dates in the officer's locale
// and time zone (Intl). Each row: key → [en, fr, vi, zh].
const ROWS = {
  "app.name": ["Liaison", "Liaison", "Liaison", "Liaison"],
  "app.tagline": ["Law-enforcement cooperation exchange", "Échange de coopération policière", "Hệ thống trao đổi hợp tác thực thi pháp luật", "执法合作信息交换系统"],
  "nav.section.messages": ["Messages", "Messages", "Thông điệp", "消息"],
  "nav.section.work": ["Drafting", "Rédaction", "Soạn thảo", "起草"],
  "nav.section.audit": ["Oversight", "Contrôle", "Giám sát", "监督"],
  "nav.inbox": ["Inbox", "Reçus", "Hộp thư đến", "收件箱"],
  "nav.outbox": ["Outbox", "Envoyés", "Hộp thư đi", "发件箱"],
  "nav.search": ["Search", "Recherche", "Tìm kiếm", "搜索"],
  "nav.new": ["New draft", "Nouveau projet", "Soạn mới", "新建草稿"],
  "nav.drafts": ["Drafts", "Projets", "Bản nháp", "草稿"],
  "nav.approvals": ["Approval queue", "À approuver", "Chờ phê duyệt", "待审批"],
  "nav.partners": ["Partners", "Partenaires", "Đối tác", "合作方"],
  "nav.ledger": ["Ledger", "Registre", "Sổ cái", "账本"],
  "nav.officers": ["Officers", "Agents", "Cán bộ", "警官账户"],
  "nav.cases": ["Cases and assistance", "Affaires et assistance", "Vụ án và hỗ trợ", "案件与协助"],
  "nav.campaigns": ["Joint campaigns", "Campagnes conjointes", "Chiến dịch chung", "联合行动"],
  "nav.minutes": ["Minutes archive", "Procès-verbaux", "Lưu trữ biên bản", "会议纪要档案"],
  "boards.overdue": ["Overdue", "En retard", "Quá hạn", "已逾期"],
  "boards.status.none": ["No answer yet", "Pas encore de réponse", "Chưa trả lời", "尚未答复"],
  "boards.status.received": ["Received", "Reçue", "Đã nhận", "已收到"],
  "boards.status.in-progress": ["In progress", "En cours", "Đang xử lý", "办理中"],
  "boards.status.answered": ["Answered", "Répondue", "Đã trả lời", "已答复"],
  "boards.status.refused": ["Refused", "Refusée", "Từ chối", "已拒绝"],
  "boards.joint": ["Joint result", "Résultat conjoint", "Kết quả chung", "联合成果"],
  "boards.progress": ["Progress", "Avancement", "Tiến độ", "进度"],
  "boards.cosigned": ["Co-signed", "Cosigné", "Đã đồng ký", "已会签"],
  "boards.awaitingCosignature": ["Awaiting", "En attente", "Chờ ký", "待会签"],
  "boards.complete": ["Complete", "Complet", "Đầy đủ", "会签完成"],
  "boards.incomplete": ["Incomplete", "Incomplet", "Chưa đủ", "会签未完成"],
  "boards.cosignatures": ["Co-signatures per party", "Cosignatures par partie", "Chữ ký của từng bên", "各方会签"],
  "boards.minutesNote": [
    "Co-signatures as recorded by {party}; each was verified by the node against the co-signing party's key when it arrived.",
    "Cosignatures telles qu'enregistrées par {party} ; chacune a été vérifiée par le nœud avec la clé de la partie cosignataire à sa réception.",
    "Chữ ký đồng ký theo ghi nhận của {party}; mỗi chữ ký đã được nút kiểm tra bằng khóa của bên ký khi nhận.",
    "{party} 记录的会签；每份会签在收到时均已由节点用会签方密钥验证。",
  ],
  "login.title": ["Sign in", "Connexion", "Đăng nhập", "登录"],
  "login.username": ["Username", "Identifiant", "Tên đăng nhập", "用户名"],
  "login.password": ["Password", "Mot de passe", "Mật khẩu", "密码"],
  "login.submit": ["Sign in", "Se connecter", "Đăng nhập", "登录"],
  "login.notice": [
    "Authorised officers only. Every action is recorded in this node's ledger.",
    "Réservé aux agents habilités. Chaque action est inscrite au registre de ce nœud.",
    "Chỉ dành cho cán bộ được cấp quyền. Mọi thao tác đều được ghi vào sổ cái của nút này.",
    "仅限授权警官使用。所有操作均记录在本节点账本中。",
  ],
  "common.signout": ["Sign out", "Se déconnecter", "Đăng xuất", "退出"],
  "common.language": ["Language", "Langue", "Ngôn ngữ", "语言"],
  "common.loading": ["Loading…", "Chargement…", "Đang tải…", "加载中…"],
  "common.none": ["Nothing to show.", "Rien à afficher.", "Không có dữ liệu.", "暂无内容。"],
  "common.filter": ["Apply", "Appliquer", "Áp dụng", "应用"],
  "common.clear": ["Clear", "Effacer", "Xóa lọc", "清除"],
  "common.more": ["Load more", "Charger la suite", "Tải thêm", "加载更多"],
  "common.cancel": ["Cancel", "Annuler", "Hủy", "取消"],
  "common.add": ["Add", "Ajouter", "Thêm", "添加"],
  "common.remove": ["Remove", "Retirer", "Xóa", "删除"],
  "common.back": ["Back", "Retour", "Quay lại", "返回"],
  "common.all": ["All", "Tous", "Tất cả", "全部"],
  "common.yes": ["Yes", "Oui", "Có", "是"],
  "common.no": ["No", "Non", "Không", "否"],
  "common.error": ["The request was refused", "La demande a été refusée", "Yêu cầu bị từ chối", "请求被拒绝"],
  "common.reference": ["Support reference", "Référence support", "Mã tham chiếu hỗ trợ", "支持参考编号"],
  "common.timezone": ["Times in {tz}", "Heures en {tz}", "Giờ theo {tz}", "时间：{tz}"],
  "common.skip": ["Skip to content", "Aller au contenu", "Chuyển đến nội dung", "跳至正文"],
  "common.signedInAs": ["Signed in as", "Connecté :", "Đăng nhập với", "当前用户"],
  "common.download": ["Download signed envelope", "Télécharger l'enveloppe signée", "Tải phong bì đã ký", "下载已签名信封"],
  "common.withheld": ["Signed envelope withheld: protected parties", "Enveloppe signée retenue : personnes protégées", "Phong bì đã ký được giữ lại: có người được bảo vệ", "已签名信封不予提供：含受保护人员"],
  "common.details": ["Details", "Détails", "Chi tiết", "详情"],
  "common.never": ["never", "jamais", "chưa có", "从未"],
  "f.date": ["Date", "Date", "Ngày", "日期"],
  "f.direction": ["Direction", "Sens", "Chiều", "方向"],
  "f.type": ["Type", "Type", "Loại", "类型"],
  "f.reference": ["Reference", "Référence", "Số hiệu", "编号"],
  "f.title": ["Title", "Titre", "Tiêu đề", "标题"],
  "f.subject": ["Subject", "Objet", "Nội dung", "事由"],
  "f.partner": ["Partner", "Partenaire", "Đối tác", "合作方"],
  "f.status": ["Status", "Statut", "Trạng thái", "状态"],
  "f.classification": ["Classification", "Classification", "Độ mật", "密级"],
  "f.handling": ["Handling codes", "Codes de traitement", "Mã xử lý", "处理代码"],
  "f.languages": ["Languages", "Langues", "Ngôn ngữ", "语言"],
  "f.recipients": ["Recipients", "Destinataires", "Nơi nhận", "接收方"],
  "f.sender": ["Sender", "Expéditeur", "Nơi gửi", "发送方"],
  "f.draftedBy": ["Drafted by", "Rédigé par", "Người soạn", "起草人"],
  "f.approvedBy": ["Approved by", "Approuvé par", "Người phê duyệt", "审批人"],
  "f.decidedBy": ["Decided by", "Décidé par", "Người quyết định", "决定人"],
  "f.createdAt": ["Created", "Créé le", "Ngày tạo", "创建时间"],
  "f.recordedAt": ["Recorded", "Enregistré le", "Ngày ghi nhận", "记录时间"],
  "f.receiptedAt": ["Receipt", "Accusé de réception", "Biên nhận", "回执时间"],
  "f.attempts": ["Attempts", "Tentatives", "Số lần gửi", "尝试次数"],
  "f.ledgerIndex": ["Ledger index", "Index au registre", "Chỉ mục sổ cái", "账本序号"],
  "f.receiverLedgerIndex": ["Partner's ledger index", "Index au registre du partenaire", "Chỉ mục sổ cái đối tác", "对方账本序号"],
  "f.envelopeHash": ["Envelope SHA-256", "SHA-256 de l'enveloppe", "SHA-256 của phong bì", "信封 SHA-256"],
  "f.messageId": ["Message id", "Identifiant du message", "Mã thông điệp", "消息标识"],
  "f.lastError": ["Last error", "Dernière erreur", "Lỗi gần nhất", "最近错误"],
  "f.since": ["From", "Du", "Từ ngày", "起始日期"],
  "f.until": ["To", "Au", "Đến ngày", "截止日期"],
  "f.summary": ["Summary", "Résumé", "Tóm tắt", "摘要"],
  "f.deliveries": ["Delivery and receipt per recipient", "Remise et accusé par destinataire", "Chuyển giao và biên nhận theo nơi nhận", "各接收方投递与回执"],
  "f.expires": ["Expires", "Expire le", "Hết hạn", "失效时间"],
  "f.content": ["Content", "Contenu", "Nội dung", "内容"],
  "field.kind": ["Kind", "Type", "Loại", "类别"],
  "field.number": ["Number", "Numéro", "Số", "编号"],
  "field.description": ["Description", "Description", "Mô tả", "描述"],
  "field.aliases": ["Aliases", "Alias", "Bí danh", "别名"],
  "field.identity": ["Identity", "Identité", "Nhân thân", "身份"],
  "field.network": ["Network", "Réseau", "Mạng", "网络"],
  "field.address": ["Address", "Adresse", "Địa chỉ", "地址"],
  "field.parties": ["Parties", "Parties", "Các bên", "各方"],
  "field.text": ["Text", "Texte", "Nội dung", "文本"],
  "field.documents": ["Documents", "Documents", "Giấy tờ", "证件/文件"],
  "field.waypoints": ["Waypoints", "Étapes", "Điểm trung chuyển", "途经地"],
  "field.seizures": ["Seizures", "Saisies", "Thu giữ", "查获"],
  "field.attendees": ["Attendees", "Participants", "Thành phần tham dự", "出席人员"],
  "field.photos": ["Photos", "Photos", "Ảnh", "照片"],
  "field.filename": ["File", "Fichier", "Tệp", "文件"],
  "field.mediaType": ["Media type", "Type de média", "Định dạng", "媒体类型"],
  "field.sha256": ["SHA-256", "SHA-256", "SHA-256", "SHA-256"],
  "field.content": ["Content", "Contenu", "Nội dung", "内容"],
  "field.region": ["Region", "Région", "Khu vực", "地区"],
  "field.placeOfBirth": ["Place of birth", "Lieu de naissance", "Nơi sinh", "出生地"],
  "field.distinguishingMarks": ["Distinguishing marks", "Signes particuliers", "Đặc điểm nhận dạng", "体貌特征"],
  "field.warrantIssuedAt": ["Warrant issued", "Mandat délivré le", "Ngày ra lệnh", "通缉令签发时间"],
  "field.lastKnownLocations": ["Last known locations", "Derniers lieux connus", "Nơi ở cuối cùng được biết", "最后已知地点"],
  "field.partnerReferences": ["Partners' references", "Références des partenaires", "Số hiệu của đối tác", "合作方编号"],
  "field.topic": ["Topic", "Thème", "Chủ đề", "主题"],
  "field.attachments": ["Attachments", "Pièces jointes", "Tệp đính kèm", "附件"],
  "field.documentLanguages": ["Document languages", "Langues des documents", "Ngôn ngữ văn bản", "文本语言"],
  "field.headOfDelegation": ["Head of delegation", "Chef de délégation", "Trưởng đoàn", "代表团团长"],
  "field.name": ["Name", "Nom", "Tên", "名称"],
  "field.objectives": ["Objectives", "Objectifs", "Mục tiêu", "目标"],
  "field.target": ["Target", "Cible", "Chỉ tiêu", "目标值"],
  "field.crimeAreas": ["Crime areas", "Domaines criminels", "Lĩnh vực tội phạm", "犯罪领域"],
  "field.startsAt": ["Starts", "Début", "Bắt đầu", "开始"],
  "field.endsAt": ["Ends", "Fin", "Kết thúc", "结束"],
  "field.caseShareId": ["Case share", "Partage d'affaire", "Chia sẻ vụ án", "案件共享"],
  "field.latitude": ["Latitude", "Latitude", "Vĩ độ", "纬度"],
  "field.longitude": ["Longitude", "Longitude", "Kinh độ", "经度"],
  "dir.sent": ["Sent", "Envoyé", "Đã gửi", "已发送"],
  "dir.received": ["Received", "Reçu", "Đã nhận", "已接收"],
  "status.pending": ["Pending in outbox", "En attente d'envoi", "Đang chờ gửi", "待发送"],
  "status.receipted": ["Receipted", "Accusé reçu", "Đã có biên nhận", "已回执"],
  "status.rejected": ["Rejected", "Refusé", "Bị từ chối", "被拒收"],
  "status.recorded": ["Recorded", "Enregistré", "Đã ghi nhận", "已记录"],
  "kind.wanted_person": ["Wanted person", "Personne recherchée", "Đối tượng truy nã", "通缉人员"],
  "kind.drug_case": ["Drug case", "Affaire de stupéfiants", "Vụ án ma túy", "毒品案件"],
  "kind.human_trafficking": ["Human trafficking", "Traite des êtres humains", "Mua bán người", "拐卖人口"],
  "kind.telecom_fraud": ["Telecom fraud", "Escroquerie télécom", "Lừa đảo viễn thông", "电信诈骗"],
  "kind.notice_update": ["Notice update", "Mise à jour d'avis", "Cập nhật thông báo", "通报更新"],
  "kind.notice_cancellation": ["Notice cancellation", "Annulation d'avis", "Hủy thông báo", "通报撤销"],
  "kind.partner_response": ["Partner response", "Réponse du partenaire", "Phản hồi của đối tác", "合作方答复"],
  "kind.case_share": ["Case share", "Partage d'affaire", "Chia sẻ vụ án", "案件共享"],
  "kind.assistance_request": ["Assistance request", "Demande d'assistance", "Yêu cầu hỗ trợ", "协助请求"],
  "kind.assistance_response": ["Assistance response", "Réponse d'assistance", "Trả lời yêu cầu hỗ trợ", "协助答复"],
  "kind.campaign": ["Joint campaign", "Campagne conjointe", "Chiến dịch chung", "联合行动"],
  "kind.campaign_report": ["Campaign report", "Rapport de campagne", "Báo cáo chiến dịch", "行动报告"],
  "kind.minutes": ["Minutes", "Procès-verbal", "Biên bản", "会议纪要"],
  "kind.minutes_cosignature": ["Minutes co-signature", "Cosignature du procès-verbal", "Đồng ký biên bản", "纪要会签"],
  "kind.checkpoint_cosignature": ["Checkpoint cosignature", "Cosignature de point de contrôle", "Đồng ký điểm kiểm tra", "检查点会签"],
  "class.CLASSIFICATION_UNSPECIFIED": ["Not set", "Non précisée", "Chưa xác định", "未设定"],
  "class.CLASSIFICATION_UNCLASSIFIED": ["Unclassified", "Non classifié", "Không mật", "非密"],
  "class.CLASSIFICATION_RESTRICTED": ["Restricted", "Diffusion restreinte", "Hạn chế", "内部"],
  "class.CLASSIFICATION_CONFIDENTIAL": ["Confidential", "Confidentiel", "Mật", "秘密"],
  "class.CLASSIFICATION_SECRET": ["Secret", "Secret", "Tối mật", "机密"],
  "role.ROLE_DRAFTER": ["Drafter", "Rédacteur", "Soạn thảo", "起草员"],
  "role.ROLE_APPROVER": ["Approver", "Approbateur", "Phê duyệt", "审批员"],
  "role.ROLE_ANALYST": ["Analyst", "Analyste", "Phân tích", "分析员"],
  "role.ROLE_AUDITOR": ["Auditor", "Auditeur", "Kiểm toán", "审计员"],
  "role.ROLE_ADMIN": ["Administrator", "Administrateur", "Quản trị", "管理员"],
  "draft.DRAFT_STATE_AWAITING_APPROVAL": ["Awaiting approval", "En attente d'approbation", "Chờ phê duyệt", "待审批"],
  "draft.DRAFT_STATE_APPROVED": ["Approved and sent", "Approuvé et envoyé", "Đã duyệt và gửi", "已批准并发送"],
  "draft.DRAFT_STATE_REJECTED": ["Sent back", "Renvoyé", "Bị trả lại", "已退回"],
  "draft.approve": ["Approve, sign and send", "Approuver, signer et envoyer", "Phê duyệt, ký và gửi", "批准、签名并发送"],
  "draft.reject": ["Send back to drafter", "Renvoyer au rédacteur", "Trả lại người soạn", "退回起草人"],
  "draft.reason": ["Reason for sending back", "Motif du renvoi", "Lý do trả lại", "退回理由"],
  "draft.own": [
    "You drafted this message: another approving officer must approve it (two-person rule).",
    "Vous avez rédigé ce message : un autre agent approbateur doit l'approuver (règle des deux personnes).",
    "Bạn là người soạn thông điệp này: cán bộ phê duyệt khác phải duyệt (nguyên tắc hai người).",
    "此消息由您起草，须由另一名审批员批准（双人原则）。",
  ],
  "draft.willSign": ["What you are about to sign", "Ce que vous allez signer", "Nội dung bạn sắp ký", "您即将签署的内容"],
  "draft.nodeAdds": [
    "At approval the node adds: a new message id, sender {party}, the time of approval, and you as approving officer. Nothing else changes.",
    "À l'approbation, le nœud ajoute : un identifiant de message, l'expéditeur {party}, l'heure d'approbation et vous-même comme approbateur. Rien d'autre ne change.",
    "Khi phê duyệt, nút bổ sung: mã thông điệp mới, nơi gửi {party}, thời điểm phê duyệt và bạn là người phê duyệt. Không thay đổi gì khác.",
    "批准时节点仅添加：新消息标识、发送方 {party}、批准时间及您作为审批人。其他内容不变。",
  ],
  "draft.saved": ["Draft saved. It now awaits approval by another officer.", "Projet enregistré ; il attend l'approbation d'un autre agent.", "Đã lưu bản nháp; đang chờ cán bộ khác phê duyệt.", "草稿已保存，等待另一名警官审批。"],
  "draft.sent": ["Approved and sent as message {id}.", "Approuvé et envoyé : message {id}.", "Đã duyệt và gửi, mã thông điệp {id}.", "已批准并发送，消息 {id}。"],
  "draft.returned": ["The draft was sent back.", "Le projet a été renvoyé.", "Bản nháp đã bị trả lại.", "草稿已退回。"],
  "draft.raw": ["Exact content (protobuf JSON)", "Contenu exact (JSON protobuf)", "Nội dung chính xác (protobuf JSON)", "确切内容（protobuf JSON）"],
  "draft.queueEmpty": ["No draft awaits approval.", "Aucun projet en attente.", "Không có bản nháp chờ duyệt.", "没有待审批的草稿。"],
  "draft.rejectionReason": ["Reason given", "Motif", "Lý do", "理由"],
  "form.type": ["Type of message", "Type de message", "Loại thông điệp", "消息类型"],
  "form.header": ["Addressing and handling", "Destinataires et traitement", "Nơi nhận và xử lý", "收件与处理"],
  "form.body": ["Content", "Contenu", "Nội dung", "内容"],
  "form.names": ["Names, in every script known", "Noms, dans toutes les écritures connues", "Họ tên, theo mọi hệ chữ đã biết", "姓名（所有已知文字）"],
  "form.fullName": ["Full name as written", "Nom complet tel qu'écrit", "Họ tên đầy đủ", "姓名全称"],
  "form.script": ["Script", "Écriture", "Hệ chữ", "文字"],
  "form.lang": ["Language", "Langue", "Ngôn ngữ", "语言"],
  "form.translit": ["Transliteration", "Translittération", "Phiên âm", "音译"],
  "form.scheme": ["Scheme", "Système", "Hệ phiên âm", "方案"],
  "form.addName": ["Add a name", "Ajouter un nom", "Thêm họ tên", "添加姓名"],
  "form.person": ["Person", "Personne", "Đối tượng", "人员"],
  "form.dob": ["Date of birth (year, month, day)", "Date de naissance (année, mois, jour)", "Ngày sinh (năm, tháng, ngày)", "出生日期（年、月、日）"],
  "form.nationalities": ["Nationalities (ISO alpha-3, comma-separated)", "Nationalités (ISO alpha-3, séparées par des virgules)", "Quốc tịch (ISO alpha-3, cách nhau bởi dấu phẩy)", "国籍（ISO 三字母代码，逗号分隔）"],
  "form.sex": ["Sex", "Sexe", "Giới tính", "性别"],
  "form.sex.male": ["Male", "Masculin", "Nam", "男"],
  "form.sex.female": ["Female", "Féminin", "Nữ", "女"],
  "form.sex.unknown": ["Unknown", "Inconnu", "Không rõ", "不详"],
  "form.docKind": ["Identity document", "Pièce d'identité", "Giấy tờ tùy thân", "身份证件"],
  "form.docNumber": ["Document number", "Numéro", "Số giấy tờ", "证件号码"],
  "form.docCountry": ["Issuing country", "Pays émetteur", "Nước cấp", "签发国"],
  "form.doc.passport": ["Passport", "Passeport", "Hộ chiếu", "护照"],
  "form.doc.national-id": ["National identity card", "Carte nationale d'identité", "Căn cước công dân", "身份证"],
  "form.charges": ["Charges", "Chefs d'inculpation", "Tội danh", "指控罪名"],
  "form.warrant": ["Warrant reference", "Référence du mandat", "Số lệnh truy nã", "通缉令编号"],
  "form.authority": ["Issuing authority", "Autorité émettrice", "Cơ quan ra lệnh", "签发机关"],
  "form.danger": ["Dangerousness", "Dangerosité", "Mức độ nguy hiểm", "危险程度"],
  "form.danger.DANGEROUSNESS_LOW": ["Low", "Faible", "Thấp", "低"],
  "form.danger.DANGEROUSNESS_MODERATE": ["Moderate", "Modérée", "Trung bình", "中"],
  "form.danger.DANGEROUSNESS_HIGH": ["High", "Élevée", "Cao", "高"],
  "form.danger.DANGEROUSNESS_ARMED": ["Armed and dangerous", "Armé et dangereux", "Có vũ khí, nguy hiểm", "持有武器，极度危险"],
  "form.action": ["Requested action", "Action demandée", "Đề nghị", "请求事项"],
  "form.action.locate": ["Locate", "Localiser", "Xác định vị trí", "查找下落"],
  "form.action.arrest-and-hand-over": ["Arrest and hand over", "Arrêter et remettre", "Bắt giữ và bàn giao", "抓捕并移交"],
  "form.action.information": ["Information", "Information", "Cung cấp thông tin", "提供信息"],
  "form.substances": ["Substances (comma-separated)", "Substances (séparées par des virgules)", "Chất ma túy (cách nhau bởi dấu phẩy)", "毒品种类（逗号分隔）"],
  "form.quantity": ["Quantity", "Quantité", "Số lượng", "数量"],
  "form.unit": ["Unit", "Unité", "Đơn vị", "单位"],
  "form.borderAreas": ["Border areas (comma-separated)", "Zones frontalières (séparées par des virgules)", "Khu vực biên giới (cách nhau bởi dấu phẩy)", "边境地区（逗号分隔）"],
  "form.route": ["Route", "Itinéraire", "Tuyến vận chuyển", "路线"],
  "form.mode": ["Mode", "Mode", "Phương thức", "方式"],
  "form.suspects": ["Suspects", "Suspects", "Đối tượng nghi vấn", "嫌疑人"],
  "form.recruiters": ["Recruiters", "Recruteurs", "Kẻ tuyển mộ", "招募者"],
  "form.victimCount": ["Number of victims", "Nombre de victimes", "Số nạn nhân", "受害人数"],
  "form.victimsNote": [
    "Victims' identities are never entered here: they travel only in protected fields.",
    "L'identité des victimes n'est jamais saisie ici : elle ne circule que dans les champs protégés.",
    "Không nhập danh tính nạn nhân tại đây: chỉ truyền trong các trường được bảo vệ.",
    "此处不填写受害人身份：仅在受保护字段中传递。",
  ],
  "form.recruitment": ["Recruitment method", "Mode de recrutement", "Phương thức tuyển mộ", "招募方式"],
  "form.channels": ["Online groups and accounts (one per line)", "Groupes et comptes en ligne (un par ligne)", "Nhóm, tài khoản mạng (mỗi dòng một mục)", "网络群组与账号（每行一个）"],
  "form.exploitation": ["Exploitation", "Exploitation", "Hình thức bóc lột", "剥削类型"],
  "form.exploit.forced-labour": ["Forced labour", "Travail forcé", "Lao động cưỡng bức", "强迫劳动"],
  "form.exploit.forced-criminality": ["Forced criminality (fraud compounds)", "Criminalité forcée (centres d'escroquerie)", "Ép buộc phạm tội (cơ sở lừa đảo)", "强迫犯罪（诈骗园区）"],
  "form.exploit.sexual-exploitation": ["Sexual exploitation", "Exploitation sexuelle", "Bóc lột tình dục", "性剥削"],
  "form.location": ["Location (country, place)", "Lieu (pays, localité)", "Địa điểm (quốc gia, nơi)", "地点（国家、地方）"],
  "form.country": ["Country (ISO alpha-3)", "Pays (ISO alpha-3)", "Quốc gia (ISO alpha-3)", "国家（ISO 三字母）"],
  "form.place": ["Place", "Localité", "Địa danh", "地名"],
  "form.phones": ["Phone numbers, E.164 (one per line)", "Numéros de téléphone, E.164 (un par ligne)", "Số điện thoại, E.164 (mỗi dòng một số)", "电话号码，E.164（每行一个）"],
  "form.accounts": ["Bank accounts", "Comptes bancaires", "Tài khoản ngân hàng", "银行账户"],
  "form.bank": ["Bank", "Banque", "Ngân hàng", "银行"],
  "form.accountNumber": ["Account number", "Numéro de compte", "Số tài khoản", "账号"],
  "form.holder": ["Holder", "Titulaire", "Chủ tài khoản", "户名"],
  "form.domains": ["Sites and domains (one per line)", "Sites et domaines (un par ligne)", "Trang web, tên miền (mỗi dòng một mục)", "网站与域名（每行一个）"],
  "form.crypto": ["Crypto addresses, network:address (one per line)", "Adresses crypto, réseau:adresse (une par ligne)", "Địa chỉ tiền mã hóa, mạng:địa chỉ (mỗi dòng một)", "加密货币地址，网络:地址（每行一个）"],
  "form.fraudScheme": ["Scheme", "Procédé", "Thủ đoạn", "诈骗手法"],
  "form.fraud.investment": ["Fake investment", "Faux investissement", "Đầu tư giả", "虚假投资"],
  "form.fraud.impersonation-of-police": ["Impersonation of police", "Usurpation de qualité de policier", "Giả danh công an", "冒充公检法"],
  "form.fraud.romance": ["Romance scam", "Arnaque sentimentale", "Lừa đảo tình cảm", "婚恋诈骗"],
  "form.fraud.online-gambling": ["Online gambling", "Jeux d'argent en ligne", "Đánh bạc trực tuyến", "网络赌博"],
  "form.loss": ["Estimated loss", "Préjudice estimé", "Thiệt hại ước tính", "估计损失"],
  "form.caseRef": ["Case reference", "Référence de l'affaire", "Số hiệu vụ án", "案件编号"],
  "form.offences": ["Offences", "Infractions", "Hành vi phạm tội", "涉嫌罪名"],
  "form.caseStatus": ["Case status", "Statut de l'affaire", "Tình trạng vụ án", "案件状态"],
  "form.case.CASE_STATUS_OPEN": ["Open", "Ouverte", "Đang điều tra", "进行中"],
  "form.case.CASE_STATUS_SUSPENDED": ["Suspended", "Suspendue", "Tạm đình chỉ", "暂停"],
  "form.case.CASE_STATUS_CLOSED": ["Closed", "Close", "Đã kết thúc", "已结案"],
  "form.linked": ["Linked notice ids (one per line)", "Avis liés (un identifiant par ligne)", "Mã thông báo liên quan (mỗi dòng một)", "关联通报标识（每行一个）"],
  "form.persons": ["Persons concerned", "Personnes concernées", "Người liên quan", "涉案人员"],
  "form.personRole": ["Role in the case", "Rôle dans l'affaire", "Vai trò", "涉案身份"],
  "form.request": ["What is asked", "Objet de la demande", "Nội dung đề nghị", "请求内容"],
  "form.legalBasis": ["Legal basis", "Base juridique", "Căn cứ pháp lý", "法律依据"],
  "form.deadline": ["Answer needed by", "Réponse attendue avant", "Hạn trả lời", "答复期限"],
  "form.urgency": ["Urgency", "Urgence", "Mức độ khẩn", "紧急程度"],
  "form.urgency.routine": ["Routine", "Normale", "Thường", "常规"],
  "form.urgency.urgent": ["Urgent", "Urgente", "Khẩn", "紧急"],
  "form.urgency.immediate": ["Immediate", "Immédiate", "Hỏa tốc", "特急"],
  "form.assistanceKinds": ["Assistance asked", "Assistance demandée", "Loại hỗ trợ", "协助类型"],
  "form.ak.information": ["Information", "Information", "Thông tin", "信息"],
  "form.ak.locate-person": ["Locate a person", "Localiser une personne", "Xác minh nơi ở", "查找人员"],
  "form.ak.interview": ["Interview", "Audition", "Lấy lời khai", "询问"],
  "form.ak.freeze-account": ["Freeze an account", "Geler un compte", "Phong tỏa tài khoản", "冻结账户"],
  "form.ak.evidence": ["Evidence", "Preuves", "Chứng cứ", "证据"],
  "form.campaignId": ["Campaign id", "Identifiant de campagne", "Mã chiến dịch", "行动编号"],
  "form.periodStart": ["Period start", "Début de période", "Từ ngày", "期间开始"],
  "form.periodEnd": ["Period end", "Fin de période", "Đến ngày", "期间结束"],
  "form.results": ["Results for the period", "Résultats de la période", "Kết quả trong kỳ", "本期成果"],
  "form.metric": ["Metric", "Indicateur", "Chỉ tiêu", "指标"],
  "form.value": ["Value", "Valeur", "Giá trị", "数值"],
  "form.narrative": ["Narrative", "Commentaire", "Thuyết minh", "说明"],
  "form.meetingTitle": ["Title of the meeting", "Intitulé de la réunion", "Tên hội nghị", "会议名称"],
  "form.meetingNumber": ["Number in its series", "Numéro dans la série", "Lần thứ", "届次"],
  "form.meetingKind": ["Kind of meeting", "Type de réunion", "Loại hội nghị", "会议类型"],
  "form.mk.ministerial-conference": ["Ministerial conference", "Conférence ministérielle", "Hội nghị cấp Bộ trưởng", "部长级会议"],
  "form.mk.strategic-security-dialogue": ["Strategic security dialogue", "Dialogue stratégique de sécurité", "Đối thoại chiến lược an ninh", "战略安全对话"],
  "form.mk.working-group": ["Working group", "Groupe de travail", "Nhóm công tác", "工作组"],
  "form.meetingDate": ["Date of the meeting", "Date de la réunion", "Ngày họp", "会议日期"],
  "form.cosigners": ["Parties that co-sign", "Parties cosignataires", "Các bên đồng ký", "会签方"],
  "form.points": ["Agreed points (one per line)", "Points convenus (un par ligne)", "Các nội dung thống nhất (mỗi dòng một)", "议定事项（每行一项）"],
  "form.previousMinutes": ["Previous minutes (message id)", "Procès-verbal précédent (identifiant)", "Biên bản trước (mã thông điệp)", "上次纪要（消息标识）"],
  "form.documents": ["Signed documents (one file per language)", "Documents signés (un fichier par langue)", "Văn bản đã ký (mỗi ngôn ngữ một tệp)", "签署文本（每种语言一个文件）"],
  "form.expires": ["Expires on (optional)", "Expire le (facultatif)", "Ngày hết hạn (không bắt buộc)", "失效日期（可选）"],
  "form.submit": ["Save draft for approval", "Enregistrer pour approbation", "Lưu và trình phê duyệt", "保存并提交审批"],
  "form.titleLang": ["Language of the title", "Langue du titre", "Ngôn ngữ tiêu đề", "标题语言"],
  "search.label": ["Search notices and cases", "Rechercher avis et affaires", "Tìm thông báo và vụ án", "搜索通报与案件"],
  "search.placeholder": ["Name in any script, document, phone, account or address", "Nom dans toute écriture, document, téléphone, compte ou adresse", "Họ tên (mọi hệ chữ), giấy tờ, điện thoại, tài khoản, địa chỉ ví", "任意文字的姓名、证件、电话、账号或地址"],
  "search.hint": [
    "“Nguyen Van A” finds “Nguyễn Văn A”; pinyin finds the Hanzi name when the notice carries both.",
    "« Nguyen Van A » trouve « Nguyễn Văn A » ; le pinyin trouve le nom en caractères chinois quand l'avis porte les deux.",
    "“Nguyen Van A” tìm được “Nguyễn Văn A”; phiên âm pinyin tìm được tên chữ Hán khi thông báo có cả hai.",
    "输入“Nguyen Van A”可找到“Nguyễn Văn A”；通报同时载有拼音和汉字时，拼音可找到汉字姓名。",
  ],
  "search.submit": ["Search", "Rechercher", "Tìm", "搜索"],
  "search.count": ["{n} found among {m} messages", "{n} trouvé(s) parmi {m} messages", "Tìm thấy {n} trong {m} thông điệp", "在 {m} 条消息中找到 {n} 条"],
  "search.partial": ["Only the newest {m} messages were searched.", "Seuls les {m} messages les plus récents ont été examinés.", "Chỉ tìm trong {m} thông điệp mới nhất.", "仅搜索了最新的 {m} 条消息。"],
  "partners.party": ["Party", "Partie", "Bên", "参与方"],
  "partners.name": ["Name", "Nom", "Tên", "名称"],
  "partners.endpoint": ["Endpoint", "Point d'accès", "Địa chỉ kết nối", "接入地址"],
  "partners.fingerprint": ["CA fingerprint", "Empreinte de l'AC", "Vân tay CA", "CA 指纹"],
  "partners.lastContact": ["Last contact", "Dernier contact", "Liên lạc gần nhất", "最近联系"],
  "partners.outboxDepth": ["Waiting in outbox", "En attente d'envoi", "Đang chờ gửi", "待发数量"],
  "partners.oldestPending": ["Oldest pending since", "Plus ancien en attente depuis", "Chờ lâu nhất từ", "最早待发时间"],
  "ledger.intro": [
    "Every message this node sent or received is an entry of its ledger. A receipt is the partner's signed proof that it recorded the same envelope in its own ledger.",
    "Chaque message envoyé ou reçu par ce nœud est une entrée de son registre. Un accusé de réception est la preuve signée que le partenaire a inscrit la même enveloppe dans son propre registre.",
    "Mọi thông điệp nút này gửi hoặc nhận đều là một mục trong sổ cái. Biên nhận là bằng chứng có chữ ký rằng đối tác đã ghi cùng phong bì vào sổ cái của mình.",
    "本节点发送或接收的每条消息都是其账本中的一个条目。回执是合作方已将同一信封记入其账本的签名证明。",
  ],
  "ledger.notExposed": [
    "Checkpoints, partner cosignatures and inclusion proofs are not yet offered by the node's local API.",
    "Les points de contrôle, cosignatures des partenaires et preuves d'inclusion ne sont pas encore offerts par l'API locale du nœud.",
    "API cục bộ của nút chưa cung cấp điểm kiểm tra, chữ ký đối tác và bằng chứng bao hàm.",
    "节点本地接口尚未提供检查点、合作方会签和包含证明。",
  ],
  "ledger.entries": ["Recent entries", "Entrées récentes", "Các mục gần đây", "最近条目"],
  "ledger.receipts": ["Receipts", "Accusés", "Biên nhận", "回执"],
  "officers.username": ["Username", "Identifiant", "Tên đăng nhập", "用户名"],
  "officers.displayName": ["Name", "Nom", "Họ tên", "姓名"],
  "officers.roles": ["Roles", "Rôles", "Vai trò", "角色"],
  "officers.state": ["State", "État", "Tình trạng", "状态"],
  "officers.active": ["Active", "Actif", "Hoạt động", "正常"],
  "officers.disabled": ["Disabled", "Désactivé", "Đã khóa", "已停用"],
  "officers.locked": ["Locked until {t}", "Verrouillé jusqu'à {t}", "Bị khóa đến {t}", "锁定至 {t}"],
  "officers.create": ["Create account", "Créer le compte", "Tạo tài khoản", "创建账户"],
  "officers.new": ["New officer", "Nouvel agent", "Cán bộ mới", "新警官账户"],
  "officers.disable": ["Disable", "Désactiver", "Khóa", "停用"],
  "officers.enable": ["Enable", "Réactiver", "Mở khóa", "启用"],
  "officers.created": ["Account created.", "Compte créé.", "Đã tạo tài khoản.", "账户已创建。"],
};

export const LANGUAGES = [
  { code: "en", label: "English", locale: "en-GB" },
  { code: "fr", label: "Français", locale: "fr-FR" },
  { code: "vi", label: "Tiếng Việt", locale: "vi-VN" },
  { code: "zh", label: "中文", locale: "zh-CN" },
];
const INDEX = { en: 0, fr: 1, vi: 2, zh: 3 };

let current = "en";

/** Every key, for checks that no language misses a label. */
export function keys() {
  return Object.keys(ROWS);
}

/** The label in one language (undefined if missing). */
export function labelIn(lang, key) {
  return ROWS[key]?.[INDEX[lang]];
}

export function setLanguage(code) {
  current = code in INDEX ? code : "en";
  try {
    localStorage.setItem("liaison.lang", current);
  } catch {
    // private mode: the choice lasts for this page only
  }
  if (typeof document !== "undefined") document.documentElement.lang = current === "zh" ? "zh-Hans" : current;
}

export function initialLanguage() {
  let saved;
  try {
    saved = localStorage.getItem("liaison.lang");
  } catch {
    saved = null;
  }
  if (saved && saved in INDEX) return saved;
  const nav = (typeof navigator !== "undefined" ? navigator.language : "en").slice(0, 2);
  return nav in INDEX ? nav : "en";
}

export function language() {
  return current;
}

export function locale() {
  return LANGUAGES.find((l) => l.code === current)?.locale ?? "en-GB";
}

/** The label for `key` with `{name}` placeholders filled; the key itself if unknown. */
export function t(key, vars = {}) {
  const row = ROWS[key];
  let text = row ? (row[INDEX[current]] ?? row[0]) : key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A date-time in the officer's locale and time zone. */
export function formatDateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(d);
}

export function formatDate(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(d);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(Number(n));
}
